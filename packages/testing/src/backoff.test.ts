import { backoffDelayMs } from './grpc';
describe('backoffDelayMs', () => {
  it('doubles from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, 100, 2_000))).toEqual([
      100, 200, 400, 800, 1_600, 2_000,
    ]);
  });
});
