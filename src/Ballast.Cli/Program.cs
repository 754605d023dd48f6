using Ballast.Cli;

return await BallastCli.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
