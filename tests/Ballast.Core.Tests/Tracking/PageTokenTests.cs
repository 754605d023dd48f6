using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>
/// Page tokens tied to their query, as MLflow's logged-model search tokens (mlflow/store/tracking/sqlalchemy_store.py
/// <c>SearchLoggedModelsPaginationToken</c>: the parameters beside the offset, compared when the token comes back).
/// </summary>
public sealed class PageTokenTests
{
    private static PageTokenQuery Query(string? filter, params string[] experimentIds) => new PageTokenQuery("logged_models")
        .WithExperimentIds(experimentIds)
        .WithFilter(filter, "filter_string");

    [Fact]
    public void A_token_gives_its_offset_back_to_the_same_query()
    {
        var token = PageToken.Create(40, Query("name = 'a'", "1", "2"));

        PageToken.ParseOffset(token, Query("name = 'a'", "1", "2")).ShouldBe(40);
        PageToken.ParseOffset(null, Query(null, "1")).ShouldBe(0);
        PageToken.ParseOffset(token).ShouldBe(40, "the offset is where an untied search reads it");
    }

    [Fact]
    public void A_keyset_token_gives_its_last_key_and_offset_back_and_is_checked_as_any_tied_token()
    {
        var token = PageToken.Create(40, Query("name = 'a'", "1"), lastKey: 1234);

        PageToken.ParseCursor(token, Query("name = 'a'", "1")).ShouldBe(new PageCursor(40, 1234));
        PageToken.ParseOffset(token, Query("name = 'a'", "1")).ShouldBe(40, "a reader of offsets alone still pages by it");
        PageToken.ParseCursor(PageToken.Create(40, Query(null, "1")), Query(null, "1")).ShouldBe(new PageCursor(40, null));
        PageToken.ParseCursor(PageToken.Create(7), Query(null, "1")).ShouldBe(new PageCursor(7, null));
        PageToken.ParseCursor(null, Query(null, "1")).ShouldBe(new PageCursor(0, null));
        Should.Throw<TrackingException>(() => PageToken.ParseCursor(token, Query("name = 'b'", "1"))).Code.ShouldBe(TrackingException.InvalidParameterValue);
        Should.Throw<ArgumentException>(() => new PageTokenQuery("x").With("last_key", "m", null));
    }

    [Fact]
    public void A_token_of_another_query_is_refused_naming_the_first_parameter_that_differs()
    {
        var token = PageToken.Create(40, Query(null, "1"));

        var ids = Should.Throw<TrackingException>(() => PageToken.ParseOffset(token, Query("x = 'y'", "2")));
        ids.Code.ShouldBe(TrackingException.InvalidParameterValue);
        ids.Message.ShouldBe("Experiment IDs in the page token do not match the requested experiment IDs. Expected: [\"2\"]. Found: [\"1\"]");
        Should.Throw<TrackingException>(() => PageToken.ParseOffset(token, Query("x = 'y'", "1"))).Message
            .ShouldBe("Filter string in the page token does not match the requested filter string. Expected: \"x = 'y'\". Found: null");
    }

    [Fact]
    public void A_token_of_another_search_is_refused_even_with_the_same_parameters()
    {
        var versions = PageToken.Create(40, new PageTokenQuery("model_versions").WithFilter(null).WithOrderBy(Array.Empty<string>()));

        Should.Throw<TrackingException>(() => PageToken.ParseOffset(versions, new PageTokenQuery("registered_models").WithFilter(null).WithOrderBy(Array.Empty<string>()))).Message
            .ShouldBe("Search in the page token does not match the requested search. Expected: \"registered_models\". Found: \"model_versions\"");
        Should.Throw<TrackingException>(() => PageToken.ParseOffset(PageToken.Create(1, new PageTokenQuery("audit_events").WithText("actor", "ci")), new PageTokenQuery("audit_events").WithText("actor", null))).Message
            .ShouldBe("Actor in the page token does not match the requested actor. Expected: null. Found: \"ci\"");
    }

    // The previous release's tokens, for runs, logged models and every other search: base64 of {"offset": 5} (with the
    // space, as json.dumps and PageToken.Create(long) write it). A client paging across the upgrade carries on.
    [Fact]
    public void A_plain_token_of_the_previous_release_is_read_as_its_offset_by_a_tied_search()
    {
        const string Legacy = "eyJvZmZzZXQiOiA1fQ==";
        PageToken.Create(5).ShouldBe(Legacy);

        PageToken.ParseOffset(Legacy, Query("name = 'a'", "1")).ShouldBe(5);
        PageToken.ParseOffset(Legacy, new PageTokenQuery("audit_events").WithText("actor", "ci")).ShouldBe(5);
    }

    [Fact]
    public void A_token_that_is_neither_tied_nor_the_previous_releases_is_not_ours()
    {
        // {"offset":5}: an offset alone, but not as the previous release wrote it (a tied token with its query cut out).
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("eyJvZmZzZXQiOjV9", Query(null, "1"))).Message.ShouldBe("Invalid page token 'eyJvZmZzZXQiOjV9': it was not issued by this server.");
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("not-a-token", Query(null, "1"))).Code.ShouldBe(TrackingException.InvalidParameterValue);
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("not-a-token", Query(null, "1"))).Message.ShouldContain("it was not issued by this server");
        // {"offset": 1, "offset": 2}: a duplicate key is malformed, not a 500.
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("eyJvZmZzZXQiOiAxLCAib2Zmc2V0IjogMn0=", Query(null, "1"))).Message.ShouldContain("it was not issued by this server");
        // {"offset": -1}, in the previous release's form: still no offset.
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("eyJvZmZzZXQiOiAtMX0=", Query(null, "1"))).Message.ShouldContain("it was not issued by this server");
    }

    [Fact]
    public void Next_is_a_token_only_when_a_row_beyond_the_page_was_read()
    {
        var query = Query(null, "1");
        PageToken.Next(10, 5, 5, query).ShouldBeNull();
        PageToken.ParseOffset(PageToken.Next(10, 5, 6, query), query).ShouldBe(15);
    }
}
