export * from './model';
export * from './post-reading';
export * from './diff';
export * from './figures';
