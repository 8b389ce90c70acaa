/* The worker page starts once its parts (the tags before this one) have run. */
window.gridWorker.start();
