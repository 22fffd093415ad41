/**
 * A command that could not do its work for a reason the user can act on (a module that does not load,
 * a declaration that throws): printed as its message alone, without a stack, with exit code 1.
 * Anything else that is not an anymq error is a bug, and keeps its stack.
 */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure'
}
