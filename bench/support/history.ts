import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { percentile, runConcurrently } from './stats.js';

const EventType = proto.temporal.api.enums.v1.EventType;

export interface HistoryCost {
  workflows: number;
  eventsMin: number;
  eventsMax: number;
  eventsMean: number;
  /** Temporal Cloud billable actions, counted from the history (see actionsOf). */
  actionsMin: number;
  actionsMax: number;
  actionsMean: number;
  /** Event types of the first history read, in order. */
  sample: string[];
  /** How many histories had each length, e.g. { "12": 998, "15": 2 }. */
  lengths: Record<string, number>;
  /** Event types of the longest history read, when longer than the sample. */
  longest: string[];
  /** How many events of each type the histories read hold together, e.g. { TIMER_STARTED: 399 }. */
  eventTypes: Record<string, number>;
  /** Attempts scheduled for a rate slot reserved on an earlier hold (absent when none were). */
  reservedSlots?: SlotLateness;
}

/**
 * How late attempts that came for a reserved rate slot were scheduled: the ACTIVITY_TASK_SCHEDULED
 * event's time − the `reservedSlotAtMs` in its input. A late one still goes in its turn, no sooner
 * than 1/rate after the request before it; lateness only shows how precise the timers were.
 */
export interface SlotLateness {
  attempts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A protobuf Timestamp in epoch ms; its seconds may be a Long, whose decimal string Number() reads. */
const timestampMs = (time: proto.google.protobuf.ITimestamp | null | undefined): number | undefined =>
  time?.seconds == null ? undefined : Number(String(time.seconds)) * 1000 + (time.nanos ?? 0) / 1e6;

/** The `reservedSlotAtMs` of a sendWebhook input (JSON payload), if it carries one. */
function reservedSlotOf(event: proto.temporal.api.history.v1.IHistoryEvent): number | undefined {
  const payload = event.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) return undefined;
  try {
    const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { reservedSlotAtMs?: unknown };
    return typeof input.reservedSlotAtMs === 'number' ? input.reservedSlotAtMs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Billable actions as Temporal Cloud defines them, as far as a history shows them: the workflow
 * start, each activity attempt (ActivityTaskStarted.attempt of the last attempt = attempts made),
 * each search-attribute upsert, timer, the markers of a workflow task (local activities, side
 * effects: one action together), signal sent,
 * child workflow started, continue-as-new. Heartbeats are not in the history; the benchmark's
 * first-try attempts last milliseconds, well under the 1 s heartbeat interval, and send none.
 */
export function actionsOf(events: proto.temporal.api.history.v1.IHistoryEvent[]): number {
  let actions = 0;
  const markerTasks = new Set<string>();
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      case EventType.EVENT_TYPE_TIMER_STARTED:
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        actions += 1;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        // Temporal Cloud bills the markers (local activities) of one workflow task as one action.
        const task = String(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? event.eventId);
        if (!markerTasks.has(task)) actions += 1;
        markerTasks.add(task);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        actions += event.activityTaskStartedEventAttributes?.attempt ?? 1;
        break;
      default:
        break;
    }
  }
  return actions;
}

/** Reads back the histories of these workflows and counts their events and actions. */
export async function historyCost(client: Client, workflowIds: string[], concurrency = 16): Promise<HistoryCost> {
  const events: number[] = [];
  const actions: number[] = [];
  let sample: string[] = [];
  let longest: string[] = [];
  const lengths: Record<string, number> = {};
  const eventTypes: Record<string, number> = {};
  const slotLateness: number[] = [];
  const names = (list: proto.temporal.api.history.v1.IHistoryEvent[]) =>
    list.map((event) => (EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, ''));
  await runConcurrently(workflowIds.length, concurrency, async (index) => {
    const history = await client.workflow.getHandle(workflowIds[index]!).fetchHistory();
    const list = history.events ?? [];
    events.push(list.length);
    actions.push(actionsOf(list));
    lengths[list.length] = (lengths[list.length] ?? 0) + 1;
    for (const name of names(list)) eventTypes[name] = (eventTypes[name] ?? 0) + 1;
    for (const event of list) {
      if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) continue;
      const slotMs = reservedSlotOf(event);
      const scheduledMs = timestampMs(event.eventTime);
      if (slotMs !== undefined && scheduledMs !== undefined) slotLateness.push(scheduledMs - slotMs);
    }
    if (sample.length === 0) sample = names(list);
    if (list.length > longest.length) longest = names(list);
  });
  const stats = (values: number[]) => ({
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  });
  const e = stats(events);
  const a = stats(actions);
  return {
    workflows: workflowIds.length,
    eventsMin: e.min,
    eventsMax: e.max,
    eventsMean: e.mean,
    actionsMin: a.min,
    actionsMax: a.max,
    actionsMean: a.mean,
    sample,
    lengths,
    longest: longest.length > sample.length ? longest : [],
    eventTypes,
    ...(slotLateness.length > 0
      ? {
          reservedSlots: {
            attempts: slotLateness.length,
            p50Ms: percentile(slotLateness, 50),
            p99Ms: percentile(slotLateness, 99),
            maxMs: Math.max(...slotLateness),
          },
        }
      : {}),
  };
}
