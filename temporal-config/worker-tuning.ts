// Worker concurrency limits, sized for a 2-core machine by default and raised
// with environment variables on larger hosts.
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
}

export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  return {
    maxConcurrentActivityTaskExecutions: Number(env.STRATA_MAX_ACTIVITIES ?? '32'),
    maxConcurrentWorkflowTaskExecutions: Number(env.STRATA_MAX_WORKFLOW_TASKS ?? '16'),
  };
}
