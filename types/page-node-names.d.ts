/*
 * The two Node names that src/barcode.ts and src/protocol.ts use, for the page's type check (tsconfig.page.json),
 * which reads those two modules for the types of the scripts the page and the server share. The page's program
 * has the DOM's globals and not Node's (Node's timers would retype the page's), so these two stand in for them.
 */
declare function require(id: string): unknown;
type Buffer = Uint8Array;
