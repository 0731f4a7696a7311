// For type-checking the page (tsconfig.web.json): vendor/msgpackr.js, loaded
// by a classic script tag, defines this global.
declare var msgpackr: typeof import('msgpackr');
