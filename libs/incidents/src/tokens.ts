export const READ_MODELS = Symbol('READ_MODELS');
export const PROJECTION_RUNNER = Symbol('PROJECTION_RUNNER');
export const CLOCK = Symbol('CLOCK');

export type Clock = () => Date;
