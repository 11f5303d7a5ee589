declare module 'edtf' {
  interface EdtfValue {
    readonly min: number | null;
    readonly max: number | null;
    readonly type: string;
  }
  function edtf(text: string, options?: { level?: 0 | 1 | 2 }): EdtfValue;
  export default edtf;
}
