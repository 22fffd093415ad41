#!/usr/bin/env node
import '../dist/anymq.js'
