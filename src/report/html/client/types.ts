/* The report's data (src/report/html/data.ts), named for the page's scripts. */
type ReportData = import('../data.js').ReportData;
type CaptureData = import('../data.js').CaptureData;
type ConnectionData = import('../data.js').ConnectionData;
type ExchangeData = import('../data.js').ExchangeData;
type MarkerData = import('../data.js').MarkerData;
type CommandData = import('../data.js').CommandData;
type MessageData = import('../data.js').MessageData;
type SectionFetchData = import('../data.js').SectionFetchData;
type ComparisonData = import('../data.js').ComparisonData;
