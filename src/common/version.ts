// Octet's version: the CLI's --version, the Report's octetVersion and the producer_version of every model it writes.
export const OCTET_VERSION = '0.1.0';
