import type { PluginProperties, Server } from '@hapi/hapi';

/**
 * What the plugin `name` exposes, read while a plugin that depends on it registers. hapi checks a plugin's
 * `dependencies` only when the server initializes; a part needs the core's hub and options to make its routes, so
 * it asks at registration and fails there, in hapi's own words: `Plugin pistream-viewers missing dependency
 * pistream-core`.
 *
 * @example
 * const core = dependencyOf(server, CORE);
 */
export function dependencyOf<K extends keyof PluginProperties>(server: Server, name: K): PluginProperties[K] {
  const api = server.plugins[name] as PluginProperties[K] | undefined;
  if (api === undefined) throw new Error(`Plugin ${server.realm.plugin ?? '(none)'} missing dependency ${String(name)}`);
  return api;
}
