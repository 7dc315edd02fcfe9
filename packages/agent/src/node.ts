export { runCli, USAGE } from "./cli/cli.ts";
export type { CliIo, CliOutput } from "./cli/cli-io.ts";
export { EXIT, exitCodeFor } from "./cli/exit-codes.ts";
export { defaultKeyFilePath } from "./key-file/default-key-file-path.ts";
export { readKeyFile } from "./key-file/read-key-file.ts";
export { type WriteKeyFileOptions, writeKeyFile } from "./key-file/write-key-file.ts";
