// Whether a workflow execution is still open: a run that holds a resource (a share's
// unfinished sanitize run) only blocks others while its workflow runs.
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';

export async function workflowRunning(client: WorkflowClient, workflowId: string): Promise<boolean> {
  try {
    return (await client.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
