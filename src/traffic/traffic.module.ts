import { Module } from '@nestjs/common';
import { DestinationRepository } from '../destinations/destination.repository.js';
import { PostgresTrafficGate } from './postgres-traffic-gate.js';
import { TemporalDeliveryWaker } from './temporal-delivery-waker.js';
import { TrafficRepository } from './traffic.repository.js';

/**
 * Traffic control: the gate the worker's send activity asks before each attempt, and the health
 * the API shows. The destination repository is provided here too (it is stateless) so the worker
 * does not import the destinations feature and its routes.
 */
@Module({
  providers: [TrafficRepository, PostgresTrafficGate, TemporalDeliveryWaker, DestinationRepository],
  exports: [TrafficRepository, PostgresTrafficGate, TemporalDeliveryWaker],
})
export class TrafficModule {}
