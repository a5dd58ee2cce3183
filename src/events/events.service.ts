import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { CanonicalEvent } from '../common/canonical-event.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeliveryDispatcher, toDeliveryDispatch, type DeliveryDispatch, type DispatchDestinationRow } from '../deliveries/delivery-dispatcher.js';
import type { DeliveryStatus } from '../deliveries/delivery-status.js';
import type { IngestEventDto, IngestEventResponseDto } from './dto/event.dto.js';
import { EventError, EventErrorCode } from './event.errors.js';
import { deliveryEventId } from './event-id.js';
import { clickContextFromRow, emptyClickContext, serializeWebhookBody, type ClickContext } from './webhook-body.js';

/** A delivery as ingest sees it: its summary for the response, and how to start it. */
interface PlannedDelivery {
  status: DeliveryStatus;
  dispatched: boolean;
  dispatch: DeliveryDispatch;
}

interface DestinationRow extends DispatchDestinationRow {
  target_event: string;
}

/** The click columns of the ingest read; all NULL when the uid has no click. */
interface ClickColumns {
  click_uid: string | null;
  tg_id: string | number | null;
  fbclid: string | null;
  campaign_id: string | null;
  campaign_name: string | null;
  country: string | null;
}

type NullableDestinationRow = { [K in keyof DestinationRow]: DestinationRow[K] | null };

@Injectable()
export class EventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  /**
   * Stores the event and one delivery per matched destination atomically, then starts
   * their workflows. The answer is 202 only once every workflow start was accepted; otherwise the
   * stored rows wait for the producer's retry with the same id (or the dispatch sweeper).
   */
  async ingest(dto: IngestEventDto, idempotencyKeyHeader: string | undefined): Promise<IngestEventResponseDto> {
    const idempotencyKey = this.idempotencyKey(dto.id, idempotencyKeyHeader);
    const data = this.eventData(dto);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([dto.canonical, dto.uid, dto.occurred_at_ms ?? null, data]))
      .digest('hex');
    const occurredAtMs = dto.occurred_at_ms ?? Date.now();

    const planned = await this.storeEvent({ idempotencyKey, fingerprint, canonical: dto.canonical, uid: dto.uid, occurredAtMs, data });
    await this.dispatcher.dispatch(planned.filter((delivery) => !delivery.dispatched).map((delivery) => delivery.dispatch));

    return {
      id: idempotencyKey,
      deliveries: planned.map(({ status, dispatch }) => ({
        event_id: dispatch.eventId,
        destination_id: dispatch.destinationId,
        event: dispatch.targetEvent,
        status,
      })),
    };
  }

  private idempotencyKey(bodyId: string | undefined, headerKey: string | undefined): string {
    const header = headerKey?.trim() || undefined;
    if (bodyId !== undefined && header !== undefined && bodyId !== header) {
      throw new EventError(EventErrorCode.IdempotencyKeyConflict, 'id and the Idempotency-Key header differ; send one or make them equal');
    }
    if (header !== undefined && (header.length > 255 || !/^[\x21-\x7e]+$/.test(header))) {
      throw new EventError(EventErrorCode.IdempotencyKeyConflict, 'Idempotency-Key must be 1-255 printable ASCII characters without spaces');
    }
    return bodyId ?? header ?? randomUUID();
  }

  private eventData(dto: IngestEventDto): Record<string, unknown> {
    if (dto.canonical === 'deposit' && (dto.data?.value === undefined || dto.data.currency === undefined)) {
      throw new EventError(EventErrorCode.DepositDataMissing, 'deposit requires data.value (decimal string) and data.currency (ISO 4217)');
    }
    // Fixed key order: the stored body is the one sent on every attempt.
    const data: Record<string, unknown> = {};
    if (dto.data?.value !== undefined) data.value = dto.data.value;
    if (dto.data?.currency !== undefined) data.currency = dto.data.currency;
    return data;
  }

  /**
   * Two statements and no explicit transaction: one read (the click and the matching destinations
   * together), then one write that stores the event and all its deliveries atomically (a single
   * statement is its own transaction). A repeated id stores nothing and is answered from what the
   * first request stored.
   */
  private async storeEvent(event: {
    idempotencyKey: string;
    fingerprint: string;
    canonical: CanonicalEvent;
    uid: string;
    occurredAtMs: number;
    data: Record<string, unknown>;
  }): Promise<PlannedDelivery[]> {
    // One row per matching destination (one row of NULLs when none match), each carrying the click.
    const rows: Array<ClickColumns & NullableDestinationRow> = await this.dataSource.query(
      `SELECT c.uid AS click_uid, c.tg_id, c.fbclid, c.campaign_id, c.campaign_name, c.country,
              t.id, t.name, t.target_event, t.timeout_ms, t.retry_policy
         FROM (SELECT 1) AS one
         LEFT JOIN clicks c ON c.uid = $2
         LEFT JOIN LATERAL (
           SELECT id, name, event_map ->> $1 AS target_event, timeout_ms, retry_policy, created_at
             FROM destinations
            WHERE enabled AND deleted_at IS NULL AND event_map ? $1
         ) t ON true
        ORDER BY t.created_at, t.id`,
      [event.canonical, event.uid],
    );
    const first = rows[0];
    const click: ClickContext =
      first && first.click_uid !== null ? clickContextFromRow({ ...first, uid: first.click_uid }) : emptyClickContext(event.uid);
    const destinations = rows.filter((row): row is ClickColumns & DestinationRow => row.id !== null);

    const planned = destinations.map((destination) => {
      const eventId = deliveryEventId(event.idempotencyKey, destination.id);
      const body = serializeWebhookBody({
        targetEvent: destination.target_event,
        canonical: event.canonical,
        eventId,
        occurredAtMs: event.occurredAtMs,
        click,
        data: event.data,
      });
      return { body, delivery: this.planned(eventId, 'pending', false, event.canonical, destination) };
    });
    // Data-modifying CTEs run to completion whether or not the final SELECT reads them; the
    // deliveries are inserted only when the event was (an existing id makes `event` empty).
    const stored: Array<{ id: string }> = await this.dataSource.query(
      `WITH event AS (
         INSERT INTO events (idempotency_key, fingerprint, canonical, uid, occurred_at_ms, data)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id
       ), stored_deliveries AS (
         INSERT INTO deliveries (event_id, source_event_id, destination_id, canonical, target_event, body, status, workflow_id)
         SELECT t.event_id, event.id, t.destination_id, $3, t.target_event, t.body, 'pending', t.workflow_id
           FROM event, unnest($7::text[], $8::uuid[], $9::text[], $10::text[], $11::text[])
             AS t(event_id, destination_id, target_event, body, workflow_id)
       )
       SELECT id FROM event`,
      [
        event.idempotencyKey,
        event.fingerprint,
        event.canonical,
        event.uid,
        event.occurredAtMs,
        event.data,
        planned.map((p) => p.delivery.dispatch.eventId),
        planned.map((p) => p.delivery.dispatch.destinationId),
        planned.map((p) => p.delivery.dispatch.targetEvent),
        planned.map((p) => p.body),
        planned.map((p) => p.delivery.dispatch.workflowId),
      ],
    );
    if (stored.length === 0) return this.existingDeliveries(event.idempotencyKey, event.fingerprint);
    return planned.map((p) => p.delivery);
  }

  /** A repeated id: answer with the deliveries made the first time, dispatching any still waiting. */
  private async existingDeliveries(idempotencyKey: string, fingerprint: string): Promise<PlannedDelivery[]> {
    const [existing]: Array<{ id: string; fingerprint: string }> = await this.dataSource.query(
      `SELECT id, fingerprint FROM events WHERE idempotency_key = $1`,
      [idempotencyKey],
    );
    if (!existing) throw new Error(`event ${idempotencyKey} vanished during ingest`);
    if (existing.fingerprint !== fingerprint) {
      throw new EventError(EventErrorCode.IdempotencyKeyReused, `id ${idempotencyKey} was already used for a different event`);
    }
    const rows: Array<DestinationRow & { event_id: string; canonical: CanonicalEvent; status: DeliveryStatus; dispatched: boolean }> =
      await this.dataSource.query(
        `SELECT d.event_id, d.canonical, d.status, d.dispatched_at IS NOT NULL AS dispatched, d.target_event,
                t.id, t.name, t.timeout_ms, t.retry_policy
           FROM deliveries d JOIN destinations t ON t.id = d.destination_id
          WHERE d.source_event_id = $1
          ORDER BY t.created_at, t.id`,
        [existing.id],
      );
    return rows.map((row) => this.planned(row.event_id, row.status, row.dispatched, row.canonical, row));
  }

  private planned(eventId: string, status: DeliveryStatus, dispatched: boolean, canonical: CanonicalEvent, destination: DestinationRow): PlannedDelivery {
    return {
      status,
      dispatched,
      dispatch: toDeliveryDispatch({ eventId, canonical, targetEvent: destination.target_event }, destination, this.config.delivery),
    };
  }
}
