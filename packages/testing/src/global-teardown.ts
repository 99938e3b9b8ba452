import './containers-global';

/** Stops containers the setup started; the local stack keeps running for the next run. */
export default async function globalTeardown(): Promise<void> {
  await Promise.all(
    (globalThis.__PARK_TEST_CONTAINERS__ ?? []).map((container) => container.stop()),
  );
}
