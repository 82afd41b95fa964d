import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { experimentRoutes } from './routes/experiments.js';
import { runRoutes } from './routes/runs.js';
import type { TrackingServices } from './service.js';

/** What {@link trackingRoutes} needs: the tracking services. */
export interface TrackingRoutesOptions {
  services: TrackingServices;
}

/**
 * The tracking context's Kiln REST API (snake_case JSON, OpenAPI-described): experiments under
 * `/experiments`, runs under `/runs`, batch logging at `/runs/:run_id/log-batch`, metric history
 * at `/runs/:run_id/metric-history` (`?max_points=` for a downsampled chart). Every route declares
 * its permission: reads `read`, changes `write`. Mount it under `/api/v1`.
 *
 * @example
 * const services = createTrackingServices(database, { artifactRoot: 'mlflow-artifacts:/' });
 * await app.register(trackingRoutes, { prefix: '/api/v1', services });
 * // GET /api/v1/runs/<id>/metric-history?key=loss&max_points=500
 */
export const trackingRoutes: FastifyPluginAsyncTypebox<TrackingRoutesOptions> = async (app, { services }) => {
  await app.register(experimentRoutes, { service: services.experiments });
  await app.register(runRoutes, { runs: services.runs, runData: services.runData });
};
