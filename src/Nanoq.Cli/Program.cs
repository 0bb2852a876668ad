// Placeholder entry point; the `nanoq` command grows with the detection issues.
Console.WriteLine("nanoq: the main job is not built yet; see README.md");
return 0;
