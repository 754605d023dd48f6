using Ballast.Metadata;

namespace Ballast.Tests.Metadata;

public sealed class DatabaseLocationTests
{
    [Fact]
    public void A_postgres_uri_becomes_a_connection_string_and_its_display_hides_the_password()
    {
        var location = DatabaseLocation.Parse("postgres://ml:s3cr%40t@db.internal:6543/ballast?sslmode=require");

        location.Engine.ShouldBe(DatabaseEngine.Postgres);
        location.ConnectionString.ShouldContain("Host=db.internal");
        location.ConnectionString.ShouldContain("Port=6543");
        location.ConnectionString.ShouldContain("Password=s3cr@t");
        location.ConnectionString.ShouldContain("SSL Mode=Require");
        location.Display.ShouldBe("postgres://ml@db.internal:6543/ballast");
        location.Display.ShouldNotContain("s3cr");
    }

    [Fact]
    public void A_sqlite_location_is_made_absolute()
    {
        var location = DatabaseLocation.Parse("sqlite:relative/ballast.db");
        location.Engine.ShouldBe(DatabaseEngine.Sqlite);
        Path.IsPathRooted(location.Display["sqlite:".Length..]).ShouldBeTrue();
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("mysql://x@y/z", "is not a database URI")]
    [InlineData("sqlite:", "needs a file path")]
    [InlineData("postgres://user:pw@host:5432/", "names no database")]
    [InlineData("postgres://user:pw@host:5432/db?bogus=1", "unknown option 'bogus'")]
    public void Bad_locations_are_refused_with_the_reason_and_without_the_password(string value, string reason)
    {
        DatabaseLocation.TryParse(value, out var location, out var error).ShouldBeFalse();
        location.ShouldBeNull();
        error.ShouldNotBeNull();
        error.ShouldContain(reason);
        error.ShouldNotContain(":pw@");
    }
}
