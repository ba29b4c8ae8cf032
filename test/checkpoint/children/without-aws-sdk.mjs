// --import this to run as if @aws-sdk/client-s3 were not installed: a module
// hook makes resolving it fail as a missing package does.
import { register } from 'node:module';

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === '@aws-sdk/client-s3' || specifier.startsWith('@aws-sdk/client-s3/')) {
    throw Object.assign(new Error("Cannot find package '@aws-sdk/client-s3'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
