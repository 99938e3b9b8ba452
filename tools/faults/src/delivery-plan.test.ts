import { deliveryPlan } from './delivery-plan';

describe('deliveryPlan', () => {
  it('delivers every batch, swaps every n-th pair and repeats every m-th batch', () => {
    const plan = deliveryPlan(10, { duplicateEvery: 4, swapEvery: 3 });
    expect(plan).toEqual([
      { batch: 0, kind: 'in-order' },
      { batch: 1, kind: 'in-order' },
      // The third batch (index 2) changes places with the fourth, which is also repeated.
      { batch: 3, kind: 'ahead' },
      { batch: 3, kind: 'duplicate' },
      { batch: 2, kind: 'behind' },
      { batch: 4, kind: 'in-order' },
      // Index 5 is the sixth batch: swapped with the seventh.
      { batch: 6, kind: 'ahead' },
      { batch: 5, kind: 'behind' },
      { batch: 7, kind: 'in-order' },
      { batch: 7, kind: 'duplicate' },
      // Index 8 is the ninth batch: swapped with the tenth, the last one.
      { batch: 9, kind: 'ahead' },
      { batch: 8, kind: 'behind' },
    ]);
  });

  it('never swaps the last batch with one that does not exist', () => {
    const plan = deliveryPlan(3, { duplicateEvery: 0, swapEvery: 3 });
    expect(plan.map((d) => d.batch)).toEqual([0, 1, 2]);
  });

  it('delivers in order without irregularities', () => {
    const plan = deliveryPlan(4, { duplicateEvery: 0, swapEvery: 0 });
    expect(plan.every((d) => d.kind === 'in-order')).toBe(true);
    expect(plan.map((d) => d.batch)).toEqual([0, 1, 2, 3]);
  });

  it('covers each batch of a long run at least once', () => {
    const plan = deliveryPlan(1_000, { duplicateEvery: 25, swapEvery: 30 });
    const seen = new Set(plan.map((d) => d.batch));
    expect(seen.size).toBe(1_000);
    // 1000 / 25 duplicates; 1000 / 30 = 33 swapped pairs.
    expect(plan.filter((d) => d.kind === 'duplicate')).toHaveLength(40);
    expect(plan.filter((d) => d.kind === 'ahead')).toHaveLength(33);
  });
});
