// Prettier for the whole tree (`npm run format`; `npm run format:check` in `npm test`); .prettierignore says what
// it leaves alone. Chosen to change as little of the hand-written style as it can: single quotes, semicolons,
// trailing commas and `(x) =>` were already the tree's. The width is the longest line the tree allows itself; lines
// at 120 would rewrap a third more of the code for nothing. Comments are never rewrapped (prose stays as written, at
// about 115 columns).

/** @type {import('prettier').Config} */
export default {
  printWidth: 140,
  singleQuote: true,
  overrides: [
    {
      // The page is plain ES5 (eslint.config.mjs parses it so): a trailing comma after the last argument of a call
      // is ES2017 and would not parse there.
      files: 'public/**/*.js',
      options: { trailingComma: 'es5' },
    },
  ],
};
