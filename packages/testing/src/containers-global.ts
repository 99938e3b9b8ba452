/** Containers that the global setup started, for the global teardown to stop. */
declare global {
  var __PARK_TEST_CONTAINERS__: { stop(): Promise<unknown> }[] | undefined;
}
export {};
