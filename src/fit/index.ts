// The fit folder's API: pure estimation from a ModelProfile and a HardwareProfile.
export { predict, MODEL_ERROR_FRACTION } from './predict.js'
export { memoryFit, computeBufferBytes, memoryBudget, MEMORY_SAFETY_MARGIN, MEMORY_WARNING_SHARE } from './memory.js'
export { scoreWorkloads, WORKLOADS, WORKLOAD_SPECS, type WorkloadName, type WorkloadScore } from './score.js'
export { modelGeometry, kvCells, attendedPositions, type ModelGeometry } from './geometry.js'
export { resolveRates, kvKey, standInType, type Rates } from './rates.js'
export { decodeEstimate, prefillEstimate, cacheHitShare } from './speed.js'
