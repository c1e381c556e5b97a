export { CONSOLE_HEADER, probeRights, startConsoleServer, type ConsoleServer, type ConsoleServerOptions, type Rights } from './consoleServer.ts';
export { ensureUiBuilt, UI_DIR } from './build.ts';
