// Where a workflow's wall time went, read from its history: for each activity the
// wait to be picked up, its run time, and the workflow's own time before scheduling
// it. Benchmarks print it with --timeline to tell Temporal's overhead from the work.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function millisOf(event: HistoryEvent): number {
  const time = event.eventTime;
  return time ? Number(time.seconds ?? 0) * 1000 + Number(time.nanos ?? 0) / 1e6 : 0;
}

/** One line per activity: "name: queued Q ms, ran R ms, after G ms of workflow"; then the total. */
export async function activityTimeline(client: Client, workflowId: string): Promise<string[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  if (events.length === 0) return [];
  const start = millisOf(events[0]);
  const scheduled = new Map<number, { name: string; at: number; gap: number }>();
  const started = new Map<number, number>();
  const lines: string[] = [];
  let lastDone = start;
  for (const event of events) {
    const at = millisOf(event);
    const id = Number(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduled.set(id, { name: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at, gap: at - lastDone });
    } else if (event.activityTaskStartedEventAttributes) {
      started.set(Number(event.activityTaskStartedEventAttributes.scheduledEventId), at);
    } else {
      const ended = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
      const task = ended ? scheduled.get(Number(ended.scheduledEventId)) : undefined;
      if (!ended || !task) continue;
      const pickedUp = started.get(Number(ended.scheduledEventId)) ?? task.at;
      lines.push(`${task.name}: queued ${Math.round(pickedUp - task.at)} ms, ran ${Math.round(at - pickedUp)} ms, after ${Math.round(task.gap)} ms of workflow`);
      lastDone = at;
    }
  }
  lines.push(`total ${Math.round(millisOf(events[events.length - 1]) - start)} ms, ${events.length} events`);
  return lines;
}
