export { formatProfile, profileStep, type KernelTime, type ProfileOptions, type StepProfile } from './profile.js';
