import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The traffic gate's common case in one statement each way (docs/TRAFFIC.md, "How, on Temporal"):
 * two PL/pgSQL functions that take the destination's health row lock and then read and write its
 * leases and queue, as the gate's transactions do, but in one round trip.
 *
 * Why functions and not one CTE statement: a plain statement reads with the snapshot taken when it
 * started, before it waited for the row lock, so it would count leases (or pick waiters) as they
 * were before the worker holding the lock committed — two workers could both take the last slot,
 * and a release could miss the delivery just queued behind it. A VOLATILE function takes a fresh
 * snapshot for each statement it runs, so everything after its lock sees what the previous holder
 * of the lock committed: the same serialisation per destination as the transactions.
 *
 * They cover the destination with a closed breaker and no rate limit: `traffic_admit_plain` admits
 * (taking a lease under max_in_flight) or, the destination full, queues the delivery and returns
 * what the hold's wait is computed from; `traffic_release_plain` frees the lease, stores a success
 * and wakes the next waiter. Any other case (an open or half-open breaker, a failure, the probe)
 * they leave to the gate's full decision in a transaction, having changed nothing it depends on.
 * Where they decide, they decide as src/traffic/traffic-rules.ts does (its spec pins the cases).
 */
export class TrafficGateFunctions1764703800000 implements MigrationInterface {
  name = 'TrafficGateFunctions1764703800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION traffic_admit_plain(
        p_destination_id uuid, p_account_id text, p_event_id text, p_workflow_id text, p_max_in_flight integer, p_lease_ms bigint,
        OUT decided boolean, OUT admitted boolean, OUT now_ms text, OUT earliest_expiry_ms text, OUT queue_position integer)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_breaker text;
        v_now timestamptz;
        v_in_flight integer;
      BEGIN
        -- The lock every decision on the destination takes (the row is created on first use); the
        -- clock is read once it is granted, as the gate's transaction does.
        INSERT INTO destination_health (destination_id, account_id) VALUES (p_destination_id, p_account_id)
        ON CONFLICT (destination_id) DO UPDATE SET destination_id = EXCLUDED.destination_id
        RETURNING breaker, date_trunc('milliseconds', clock_timestamp()) INTO v_breaker, v_now;
        now_ms := (extract(epoch FROM v_now) * 1000)::text;
        -- An open or half-open breaker holds, or picks the probe: the gate's full decision.
        decided := v_breaker = 'closed';
        IF NOT decided THEN
          RETURN;
        END IF;
        IF p_max_in_flight IS NOT NULL THEN
          -- Expired leases are those of dead workers; this delivery's own lease (from an earlier try
          -- of it) takes no slot from it.
          DELETE FROM destination_leases WHERE destination_id = p_destination_id AND expires_at <= clock_timestamp();
          SELECT count(*), (extract(epoch FROM min(expires_at)) * 1000)::text INTO v_in_flight, earliest_expiry_ms
            FROM destination_leases
           WHERE destination_id = p_destination_id AND event_id <> p_event_id AND expires_at > clock_timestamp();
          IF v_in_flight >= p_max_in_flight THEN
            -- Full: held and queued. Its place is counted before it joins (all of the queue when it
            -- is new; those since it first queued when it was woken and is back).
            SELECT count(*) INTO queue_position FROM destination_waiters w
             WHERE w.destination_id = p_destination_id AND w.workflow_id <> p_workflow_id
               AND w.since <= COALESCE((SELECT since FROM destination_waiters WHERE destination_id = p_destination_id AND workflow_id = p_workflow_id), 'infinity');
            -- A delivery queued again after a wake keeps its place and may be woken again.
            INSERT INTO destination_waiters (destination_id, workflow_id, account_id) VALUES (p_destination_id, p_workflow_id, p_account_id)
            ON CONFLICT (destination_id, workflow_id) DO UPDATE SET woken_at = NULL;
            admitted := false;
            RETURN;
          END IF;
          INSERT INTO destination_leases (destination_id, event_id, account_id, expires_at)
          VALUES (p_destination_id, p_event_id, p_account_id, v_now + p_lease_ms * interval '1 millisecond')
          ON CONFLICT (destination_id, event_id) DO UPDATE SET expires_at = EXCLUDED.expires_at;
        END IF;
        -- Admitted: a delivery that was queued leaves the queue.
        DELETE FROM destination_waiters WHERE destination_id = p_destination_id AND workflow_id = p_workflow_id;
        admitted := true;
      END $$`);

    await queryRunner.query(`
      CREATE FUNCTION traffic_release_plain(
        p_destination_id uuid, p_event_id text, p_success boolean,
        OUT leased boolean, OUT settled boolean, OUT wake text[])
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_breaker text;
        v_probe_event_id text;
      BEGIN
        -- The health row first, as admissions lock it: a release waits for a decision in progress
        -- on the destination (and so sees the delivery it queued), and the two never deadlock.
        SELECT breaker, probe_event_id INTO v_breaker, v_probe_event_id
          FROM destination_health WHERE destination_id = p_destination_id FOR UPDATE;
        -- The attempt's slot frees whatever its outcome; dropping it changes no decision below.
        DELETE FROM destination_leases WHERE destination_id = p_destination_id AND event_id = p_event_id;
        leased := FOUND;
        -- Settled here: a success with the breaker closed (it ends any streak and failing time, and
        -- closes nothing), or a neutral outcome of an attempt that was not the probe (it changes
        -- nothing). Anything else, or no health row, is the gate's full decision.
        settled := v_breaker IS NOT NULL
          AND CASE WHEN p_success THEN v_breaker = 'closed'
                   ELSE NOT (v_breaker = 'half_open' AND v_probe_event_id IS NOT DISTINCT FROM p_event_id) END;
        IF NOT settled THEN
          RETURN;
        END IF;
        IF p_success THEN
          UPDATE destination_health SET failure_streak = 0, failing_since = NULL, last_success_at = date_trunc('milliseconds', clock_timestamp()),
                 opened_at = NULL, open_until = NULL, probe_event_id = NULL, probe_until = NULL
           WHERE destination_id = p_destination_id;
        END IF;
        -- A freed slot wakes the longest-waiting delivery not woken in the last 30 s; rows woken
        -- long ago and never back are deliveries that ended (as TrafficRepository.storeRelease).
        DELETE FROM destination_waiters WHERE destination_id = p_destination_id AND woken_at < now() - interval '15 minutes';
        WITH woken AS (
          UPDATE destination_waiters w SET woken_at = now()
           WHERE w.destination_id = p_destination_id AND w.workflow_id IN (
             SELECT workflow_id FROM destination_waiters
              WHERE destination_id = p_destination_id
                AND (woken_at IS NULL OR woken_at BETWEEN now() - interval '15 minutes' AND now() - interval '30 seconds')
              ORDER BY since, workflow_id LIMIT CASE WHEN leased THEN 1 ELSE 0 END)
          RETURNING w.workflow_id)
        SELECT COALESCE(array_agg(workflow_id), '{}') INTO wake FROM woken;
      END $$`);

    // The worker calls them as the tables' owner; the tenant role has no business with them.
    await queryRunner.query(`REVOKE ALL ON FUNCTION traffic_admit_plain(uuid, text, text, text, integer, bigint) FROM PUBLIC`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION traffic_release_plain(uuid, text, boolean) FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION traffic_release_plain(uuid, text, boolean)`);
    await queryRunner.query(`DROP FUNCTION traffic_admit_plain(uuid, text, text, text, integer, bigint)`);
  }
}
