declare module 'node-gyp-build' {
  /** Loads the addon found for this platform below dir. */
  function load(dir: string): unknown;
  namespace load {
    function resolve(dir: string): string;
  }
  export = load;
}
