export {
  ALLOCATION_DECIMAL_PLACES,
  allocateInterval,
  type AllocationInput,
  type DirectLineConsumer,
  type EnterpriseAllocation,
  type LineAllocation,
} from './allocate';
export {
  DEFAULT_DIRECT_LINE_THRESHOLDS,
  RATIO_DECIMAL_PLACES,
  directLineRatios,
  type ConsumerShare,
  type DirectLineRatioInput,
  type DirectLineRatios,
  type DirectLineThresholds,
  type EnterpriseEnergy,
  type IntervalEnergy,
  type RatioCheck,
} from './ratios';
