// `octet:report-page` is a virtual module made by esbuild.mjs (reportPagePlugin): src/report/html-page.ts bundled with
// Chart.js for the browser, as JavaScript source text that src/report/html.ts inlines into the HTML report.
declare module 'octet:report-page' {
  const script: string;
  export default script;
}
