// The error of every check on a PyTorch `torch.save` file: BAD_FILE, with the file kind first.
import { BasisError } from '../errors.js';

/** What a malformed `torch.save` file is called in error messages. */
export const TORCH_KIND = 'not a valid PyTorch (torch.save) file';

/** A `BAD_FILE` error about a `torch.save` file: `not a valid PyTorch (torch.save) file: <message>`. */
export function torchFileError(message: string): BasisError {
  return new BasisError('BAD_FILE', `${TORCH_KIND}: ${message}`);
}
