#!/usr/bin/env node
import { main } from '../dist/relay-process.js'

await main()
