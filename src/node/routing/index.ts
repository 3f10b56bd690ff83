export { Routing, type RoutingHost } from "./routing";
export { Hub, failureOf, type HubHost } from "./hub";
export { RouteFinder, type Route, type RouteFinderHost } from "./finder";
export { RouteFailures } from "./failures";
export { forwardFee, forwardTerms, planRoute, type HubFees, type ForwardTerms, type RoutePlan } from "./rules";
export { forwardViewOf } from "./views";
export * from "./errors";
