// The hardware folder's API: the probe (edge) and the hardware.json format.
export { probeHardware, runTool, systemProfile, cachedProfilePath, observationsPath, type ProbeOptions } from './probe.js'
export {
  readHardwareProfile,
  writeHardwareProfile,
  validateHardwareProfile,
  parseHardwareProfile,
  serializeHardwareProfile,
  HARDWARE_SCHEMA_VERSION
} from './schema.js'
export { deviceFingerprint } from './fingerprint.js'
export { parseNvidiaSmiCsv, parseRocmSmiJson, parseSystemProfilerJson, detectGpus } from './gpu.js'
export { probePlan, PROBE_WEIGHT_TYPES } from './probe-models.js'
export { parseListDevices, readRuntimeMemory, withRuntimeMemory, type RuntimeMemory } from './runtime-memory.js'
