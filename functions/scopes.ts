/** The scope model lives in the library (pure, shared by the construct, the runtime and the API). */
export * from '@commandbus/core/scopes';
