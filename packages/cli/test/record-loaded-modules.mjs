// Preloaded with `node --import` by startup-imports.test.ts: writes the URL of every module the
// process loaded, one a line, to the file in ANYMQ_LOADED_MODULES_FILE when the process exits.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const loaded = []
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url)
    return nextLoad(url, context)
  },
})
process.on('exit', () => writeFileSync(process.env.ANYMQ_LOADED_MODULES_FILE, loaded.join('\n')))
