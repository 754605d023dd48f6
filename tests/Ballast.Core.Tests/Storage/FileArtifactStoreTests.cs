using Ballast.Storage;

namespace Ballast.Tests.Storage;

[Collection(ArtifactStoreSuite.Name)]
public sealed class FileArtifactStoreTests : ArtifactStoreContractTests
{
    private readonly string _sandbox = Directory.CreateTempSubdirectory("ballast-artifacts-").FullName;

    private string Root => Path.Combine(_sandbox, "store");

    protected override Task<IArtifactStore> CreateStoreAsync() => Task.FromResult<IArtifactStore>(new FileArtifactStore(Root));

    protected override Task<IReadOnlyList<string>> ListOutsideRootAsync()
    {
        IReadOnlyList<string> outside = Directory.EnumerateFileSystemEntries(_sandbox, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(_sandbox, path))
            .Where(path => path != "store" && !path.StartsWith("store" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(outside);
    }

    protected override Task<int> CountUnfinishedWritesAsync()
    {
        var temp = Path.Combine(Root, FileArtifactStore.TempFolderName);
        return Task.FromResult(Directory.Exists(temp) ? Directory.EnumerateFileSystemEntries(temp).Count() : 0);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_sandbox, recursive: true);
    }

    [Fact]
    public async Task Writing_a_file_over_a_folder_or_below_a_file_is_an_invalid_path_not_an_io_error()
    {
        await PutAsync("model/f.txt", "model");

        (await Should.ThrowAsync<InvalidArtifactPathException>(() => PutAsync("model", "x"))).Reason.ShouldBe("it is a folder of artifacts, which a file cannot replace");
        (await Should.ThrowAsync<InvalidArtifactPathException>(() => PutAsync("model/f.txt/sub", "x"))).Reason.ShouldBe("'f.txt' is a file, so nothing can be stored below it");
        (await ReadTextAsync("model/f.txt")).ShouldBe("model");
        (await CountUnfinishedWritesAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Files_land_at_their_path_under_the_root()
    {
        await PutAsync("models/v1/model.onnx", "onnx");

        File.ReadAllText(Path.Combine(Root, "models", "v1", "model.onnx")).ShouldBe("onnx");
        Store.Location.ShouldBe(Root);
    }

    [Fact]
    public async Task The_temporary_folder_is_reserved_and_never_listed()
    {
        await Store.CheckAsync(Cancel);
        await PutAsync("a.txt", "a");
        Directory.Exists(Path.Combine(Root, ".tmp")).ShouldBeTrue();

        (await ListAsync("")).Select(e => e.Path).ShouldBe(["a.txt"]);
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["a.txt"]);
        (await ListAsync(".tmp")).ShouldBeEmpty();
        await Should.ThrowAsync<InvalidArtifactPathException>(() => PutAsync(".tmp/x", "x"));
        (await ListAsync("", recursive: true)).Select(e => e.Path).ShouldBe(["a.txt"]);
    }

    [Fact]
    public async Task Check_creates_a_missing_root()
    {
        Directory.Exists(Root).ShouldBeFalse();

        await Store.CheckAsync(Cancel);

        Directory.Exists(Root).ShouldBeTrue();
    }

    [Fact]
    public async Task Check_on_a_root_that_cannot_be_a_folder_says_it_is_not_writable()
    {
        await File.WriteAllTextAsync(Root, "a file where the folder should be", Cancel);

        var exception = await Should.ThrowAsync<ArtifactStoreUnavailableException>(() => Store.CheckAsync(Cancel));

        exception.Message.ShouldStartWith($"Artifact folder '{Root}' is not writable: ");
    }
}
