/** How a batch is delivered in the fault run: the gateway's ordinary and irregular deliveries. */
export type DeliveryKind =
  /** The batch in its place. */
  | 'in-order'
  /** The next batch's later intervals, delivered before this one's. */
  | 'ahead'
  /** This batch, delivered after the later batch that went ahead of it. */
  | 'behind'
  /** The same batch once more, right after its first delivery (a gateway that resent it). */
  | 'duplicate';

export interface Delivery {
  batch: number;
  kind: DeliveryKind;
}

export interface DeliveryPlanOptions {
  /** Every n-th batch is delivered twice; 0 for none. */
  duplicateEvery: number;
  /** Every n-th batch changes places with the one after it; 0 for none. */
  swapEvery: number;
}

/**
 * The order in which a gateway delivers `batches` consecutive batches: mostly in order, with
 * some pairs swapped (later intervals before earlier ones) and some batches sent twice. Every
 * batch is delivered at least once.
 */
export function deliveryPlan(batches: number, options: DeliveryPlanOptions): Delivery[] {
  const plan: Delivery[] = [];
  const deliver = (batch: number, kind: DeliveryKind) => {
    plan.push({ batch, kind });
    if (options.duplicateEvery > 0 && (batch + 1) % options.duplicateEvery === 0) {
      plan.push({ batch, kind: 'duplicate' });
    }
  };
  for (let batch = 0; batch < batches; batch++) {
    const swapped =
      options.swapEvery > 0 && (batch + 1) % options.swapEvery === 0 && batch + 1 < batches;
    if (swapped) {
      deliver(batch + 1, 'ahead');
      deliver(batch, 'behind');
      batch++;
    } else {
      deliver(batch, 'in-order');
    }
  }
  return plan;
}
