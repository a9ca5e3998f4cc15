export * from './checked.js'
export * from './convert.js'
export * from './codec.js'
export * from './address.js'
