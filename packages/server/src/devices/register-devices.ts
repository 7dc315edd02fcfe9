import type { FastifyInstance } from "fastify";
import type { AppServices } from "../app-services.ts";
import { registerPeriodicSweep } from "../auth-guards/register-periodic-sweep.ts";
import { registerAccountKeyRoutes } from "./account-key-routes.ts";
import { registerDeviceBundleRoutes } from "./device-bundle-routes.ts";
import type { DeviceDeps } from "./device-deps.ts";
import { registerDeviceRoutes } from "./device-routes.ts";
import { createDeviceStore } from "./device-store.ts";
import { createPairingRelay } from "./pairing-relay.ts";
import { registerPairingRoutes } from "./pairing-routes.ts";

/**
 * Devices as a route module (issue 9, DESIGN §4.11): devices, their credential bundles, the
 * account key set and the pairing relay, and the sweep that expires overdue pairings.
 */
export function registerDevices(app: FastifyInstance, services: AppServices): void {
  const { db, clock, config } = services;
  const deps: DeviceDeps = {
    db,
    clock,
    audit: services.audit,
    devices: createDeviceStore({ dataKeys: services.userDataKeys, clock }),
    pushSubscriptions: services.push.subscriptions,
    stepUpMaxAgeSeconds: config.auth.stepUpMaxAgeSeconds,
  };
  const relay = createPairingRelay(deps);
  registerDeviceRoutes(app, deps);
  registerDeviceBundleRoutes(app, deps);
  registerAccountKeyRoutes(app, deps);
  registerPairingRoutes(app, deps, relay);
  registerPeriodicSweep(app, "expired pairings", () => relay.sweep(db));
}
