/** The module each cluster worker runs (`cluster.setupPrimary({ exec })` in the primary). */
import { runWorker } from "./run-worker.js";

runWorker();
