export { compareScenario, verdictFor, speedRatio, absErrorPct, COMPARE_EPSILON } from './compare.js'
export type { ComparableRow, CompareContext } from './compare.js'
export { compareModel } from './model.js'
export { formatNumber, formatPct, formatLimit } from './format.js'
