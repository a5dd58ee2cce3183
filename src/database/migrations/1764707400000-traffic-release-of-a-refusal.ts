import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The one-statement release (migration 1764703800000) also settles a permanent failure (a 4xx)
 * with the breaker closed, which used to take the gate's five-statement transaction: it keeps the
 * streak and the breaker as they are, starts the failing time if none runs, and stores the failure.
 * A refusal that would auto-disable the destination is still the gate's full decision. While its
 * transaction runs, the destination's other releases queue behind its row lock, and in a burst of
 * refusals each local first attempt held its workflow task that much longer (test/recovery.test.ts).
 *
 * It also wakes a waiter only while the breaker is closed, as traffic-rules.ts decides: a neutral
 * outcome behind an open or probing breaker used to wake one delivery that would only be held again.
 *
 * The three-argument function stays, for workers of the previous release during a rolling deploy.
 */
export class TrafficReleaseOfARefusal1764707400000 implements MigrationInterface {
  name = 'TrafficReleaseOfARefusal1764707400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION traffic_release_plain(
        p_destination_id uuid, p_event_id text, p_outcome text, p_reason text, p_auto_disable_after_ms bigint,
        OUT leased boolean, OUT settled boolean, OUT wake text[])
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_breaker text;
        v_probe_event_id text;
        v_failing_since timestamptz;
        v_now timestamptz;
      BEGIN
        -- The health row first, as admissions lock it; the clock once the lock is granted.
        SELECT breaker, probe_event_id, failing_since INTO v_breaker, v_probe_event_id, v_failing_since
          FROM destination_health WHERE destination_id = p_destination_id FOR UPDATE;
        v_now := date_trunc('milliseconds', clock_timestamp());
        -- The attempt's slot frees whatever its outcome; dropping it changes no decision below.
        DELETE FROM destination_leases WHERE destination_id = p_destination_id AND event_id = p_event_id;
        leased := FOUND;
        -- Settled here: a success or a refusal with the breaker closed (a refusal that is not due to
        -- auto-disable the destination), or a neutral outcome of an attempt that was not the probe.
        -- Anything else, or no health row, is the gate's full decision.
        settled := v_breaker IS NOT NULL AND CASE p_outcome
          WHEN 'success' THEN v_breaker = 'closed'
          WHEN 'permanent_failure' THEN v_breaker = 'closed'
            AND (p_auto_disable_after_ms IS NULL OR v_now - COALESCE(v_failing_since, v_now) < p_auto_disable_after_ms * interval '1 millisecond')
          WHEN 'neutral' THEN NOT (v_breaker = 'half_open' AND v_probe_event_id IS NOT DISTINCT FROM p_event_id)
          ELSE false END;
        IF NOT settled THEN
          RETURN;
        END IF;
        IF p_outcome = 'success' THEN
          UPDATE destination_health SET failure_streak = 0, failing_since = NULL, last_success_at = v_now,
                 opened_at = NULL, open_until = NULL, probe_event_id = NULL, probe_until = NULL
           WHERE destination_id = p_destination_id;
        ELSIF p_outcome = 'permanent_failure' THEN
          UPDATE destination_health SET failing_since = COALESCE(failing_since, v_now), last_failure_at = v_now, last_failure_reason = p_reason
           WHERE destination_id = p_destination_id;
        END IF;
        -- A freed slot wakes the longest-waiting delivery not woken in the last 30 s, while the
        -- breaker is closed; rows woken long ago and never back are deliveries that ended (as
        -- TrafficRepository.storeRelease).
        DELETE FROM destination_waiters WHERE destination_id = p_destination_id AND woken_at < now() - interval '15 minutes';
        WITH woken AS (
          UPDATE destination_waiters w SET woken_at = now()
           WHERE w.destination_id = p_destination_id AND w.workflow_id IN (
             SELECT workflow_id FROM destination_waiters
              WHERE destination_id = p_destination_id
                AND (woken_at IS NULL OR woken_at BETWEEN now() - interval '15 minutes' AND now() - interval '30 seconds')
              ORDER BY since, workflow_id LIMIT CASE WHEN leased AND v_breaker = 'closed' THEN 1 ELSE 0 END)
          RETURNING w.workflow_id)
        SELECT COALESCE(array_agg(workflow_id), '{}') INTO wake FROM woken;
      END $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION traffic_release_plain(uuid, text, text, text, bigint) FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION traffic_release_plain(uuid, text, text, text, bigint)`);
  }
}
