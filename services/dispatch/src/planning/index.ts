// The pure day-ahead planner: problem, LP model (HiGHS and glpsol), planner and independent checker.
export {
  endSocMinFraction,
  gridFactorAt,
  intervalCount,
  intervalStart,
  PlanningProblemError,
  validatePlanningProblem,
  type GeneratorKind,
  type PlanningBattery,
  type PlanningFlexibleLoad,
  type PlanningGenerator,
  type PlanningProblem,
} from './problem';
export {
  buildLpModel,
  formatNumber,
  glpsolArgs,
  PENALTY_CNY_PER_KWH,
  sanitizeLpName,
  writeGlpsolModel,
  type BuildLpOptions,
  type LpModel,
  type LpNames,
  type LpRow,
  type LpTerm,
  type LpVariable,
  type ModeBinary,
  type VariableRole,
} from './lp-model';
export {
  loadHighs,
  planDay,
  SIMULTANEOUS_THRESHOLD_KW,
  VIOLATION_THRESHOLD,
  type PlannedInterval,
  type PlanObjective,
  type PlanOptions,
  type PlanResult,
  type PlanStatus,
  type PlanViolation,
} from './planner';
export { checkPlan, type BrokenConstraint } from './check';
