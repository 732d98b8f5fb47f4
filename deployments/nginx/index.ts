/** The gateway's nginx configuration: settings, renderer, htpasswd, and the serializer they share. */
export { renderNginxConf, NGINX_CONF_HEADER } from './render';
export {
  DEFAULT_NGINX_SETTINGS,
  RULES,
  listenPort,
  resolveNginxSettings,
  type NginxSettings,
  type NginxSettingsInput,
} from './settings';
export {
  htpasswdLine,
  sshaHash,
  assertHtpasswdUser,
  MIN_PASSWORD_LENGTH,
  SSHA_MIN_SALT_BYTES,
} from './htpasswd';
export { GATEWAY_ERRORS, NGINX_NAMES } from './sections';
export {
  assertToken,
  block,
  blank,
  comment,
  directive,
  entry,
  quote,
  template,
  toNginx,
  type NginxNode,
  type TokenRule,
} from './directives';
