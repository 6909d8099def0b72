/// <reference types="@webgpu/types" preserve="true" />
/** webgpu-optim's public API (see shared/API.md): torch.optim in camelCase, on WebGPU. */
export { createEngine, Engine } from './engine.ts';
export type { EngineOptions, ParameterOptions, PlanningLimits, WrapOptions } from './engine.ts';
export { Parameter, Gradient } from './parameter.ts';
export { Optimizer } from './optimizer.ts';
export type { ParamGroup, ParamGroupInput, StateDict, OptimizerOptions } from './optimizer.ts';
export {
  GPUOperationError,
  WebGPUUnavailableError,
  DisposedError,
  DeviceLostError,
} from './errors.ts';
export { optimizers, optimizerSpecs } from './optimizers/registry.ts';
export type { OptimizerName, OptimizerClass } from './optimizers/registry.ts';
export type { OptimizerSpec } from './optimizers/spec.ts';
export * as reference from './reference/index.ts';
export type * from './reference/index.ts';

import { optimizers } from './optimizers/registry.ts';
export const {
  SGD,
  Adam,
  AdamW,
  Adagrad,
  Adadelta,
  RMSprop,
  Adamax,
  NAdam,
  RAdam,
  Lion,
  LAMB,
  LARS,
  AdamWScheduleFree,
  SGDScheduleFree,
  ADOPT,
  Adafactor,
  Muon,
} = optimizers;

export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  LinearLR,
  PolynomialLR,
  OneCycleLR,
  InverseTimeLR,
  LambdaLR,
  SequentialLR,
  ChainedScheduler,
  ReduceLROnPlateau,
} from './schedulers/index.ts';
export type * from './schedulers/index.ts';
export { clipGradNorm, clipGradValue } from './clip.ts';
export { saveCheckpoint, loadCheckpoint } from './checkpoint-file.ts';
export type { SaveCheckpointOptions } from './checkpoint-file.ts';
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './safetensors.ts';
export type {
  SafetensorsFile,
  Tensor as SafetensorsTensor,
  TensorInput as SafetensorsTensorInput,
} from './safetensors.ts';
export type { NormHandle } from './clip.ts';
