export {
  CommandBus,
  PARKED_EVENT_DETAIL_TYPE,
  REST_STAGE,
  type ApiKind,
  type CommandBusDomain,
  type CommandBusDomainProps,
  type CommandBusProps,
  type DomainRetryPolicy,
} from './CommandBus.ts';
export { createCommandBusDashboard, type DashboardDomain } from './dashboard.ts';
export type { Domains, OperatorAction, Scope } from '@commandbus/core/scopes';
export { DISCOVERY_OUTPUT_PREFIX, type BusDiscovery } from '@commandbus/core/deployment';
