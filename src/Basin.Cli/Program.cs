// Placeholder entry point; the command tree is being written.
return 0;
