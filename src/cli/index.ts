import { createProgram } from './program.ts';
import { reportError } from './output.ts';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  reportError(error);
}
