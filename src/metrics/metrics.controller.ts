import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PublicRoute } from '../common/route-access.decorator.js';
import { temporalSdkMetricsUrl } from '../temporal/temporal-runtime.js';
import { metricsRegistry } from './delivery-metrics.js';

const SDK_METRICS_TIMEOUT_MS = 1000;

/**
 * Prometheus exposition: the service's metrics, then the Temporal SDK's worker metrics when a worker runs here.
 * Public so a scraper needs no key: keep the port off the public network.
 */
@ApiExcludeController()
@PublicRoute()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  async metrics(): Promise<string> {
    const own = await metricsRegistry.metrics();
    const sdkUrl = temporalSdkMetricsUrl();
    if (!sdkUrl) return own;
    try {
      const response = await fetch(sdkUrl, { signal: AbortSignal.timeout(SDK_METRICS_TIMEOUT_MS) });
      return `${own}\n${await response.text()}`;
    } catch {
      return own;
    }
  }
}
