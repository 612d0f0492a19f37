-- experiments/scenarios/library.lua: introspect's own scenario library.
--
-- This is the default stimulus set of introspect: every experiment that does not name a
-- scenarios file draws its choice types from this list (the published study's
-- candidate_scenarios.json is an option, e.g. `--scenarios=FILE.json` for exact replication).
-- Each entry is a Scenario as in docs/architecture.md:
--   {short_name = "condos", question = "Which condo would you prefer?",
--    attributes = {{name = "square_footage", units = "sq ft", min = 500, max = 3000}, ... 5 in all}}
-- The list was written for this project. Values of a trial are drawn uniformly from [min, max]
-- and rounded by the study's rule (range < 1: |floor(log10(range))| + 1 decimals; range < 5:
-- 1 decimal; otherwise integers), so some ranges here are deliberately narrow.
-- To add a scenario, see experiments/scenarios/README.md; tests/spec/scenario_library_spec.lua
-- checks the whole list.

local library = {}

-- scenario(short_name, question, attrs): appends one Scenario; attrs are {name, units, min, max}.
local function scenario(short_name, question, attrs)
  local attributes = {}
  for i, a in ipairs(attrs) do
    attributes[i] = { name = a[1], units = a[2], min = a[3], max = a[4] }
  end
  library[#library + 1] = { short_name = short_name, question = question, attributes = attributes }
end

---------------------------------------------------------------------------------------------------
-- Housing and places to stay
---------------------------------------------------------------------------------------------------
scenario("condos", "Which condo would you prefer?", {
  {"square_footage", "sq ft", 500, 3000}, {"monthly_hoa_fee", "dollars per month", 100, 900},
  {"floor_number", "floor", 1, 40}, {"distance_to_transit", "kilometers", 0.1, 3},
  {"building_age", "years", 0, 80}})
scenario("rental_apartments", "Which rental apartment would you prefer?", {
  {"monthly_rent", "dollars", 800, 4000}, {"bedrooms", "rooms", 0, 4},
  {"commute_time", "minutes", 5, 75}, {"natural_light", "hours of direct sun per day", 0, 8},
  {"lease_length", "months", 6, 24}})
scenario("family_houses", "Which house would you buy for your family?", {
  {"asking_price", "thousand dollars", 200, 1500}, {"lot_size", "acres", 0.1, 2},
  {"school_rating", "rating out of 10", 1, 10}, {"bathrooms", "bathrooms", 1, 4},
  {"annual_property_tax", "dollars", 1500, 18000}})
scenario("mountain_cabins", "Which mountain cabin would you rent for a week?", {
  {"weekly_price", "dollars", 600, 4000}, {"elevation", "meters", 800, 3000},
  {"drive_from_town", "minutes", 5, 90}, {"sleeping_capacity", "guests", 2, 12},
  {"wood_stove_efficiency", "fraction of heat retained", 0.4, 0.9}})
scenario("student_dorm_rooms", "Which dorm room would you choose?", {
  {"room_area", "square meters", 9, 25}, {"roommates", "people", 0, 3},
  {"walk_to_lectures", "minutes", 2, 25}, {"semester_fee", "dollars", 2500, 7000},
  {"noise_level", "decibels at night", 30, 60}})
scenario("office_leases", "Which office space would you lease for a small company?", {
  {"floor_area", "square meters", 80, 800}, {"rent_per_square_meter", "dollars per month", 15, 70},
  {"parking_spaces", "spaces", 0, 40}, {"lease_term", "years", 1, 10},
  {"internet_uplink", "gigabits per second", 0.1, 10}})
scenario("self_storage_units", "Which storage unit would you rent?", {
  {"unit_volume", "cubic meters", 3, 40}, {"monthly_cost", "dollars", 40, 350},
  {"distance_from_home", "kilometers", 1, 30}, {"access_hours", "hours per day", 8, 24},
  {"humidity_control", "percent relative humidity held", 40, 60}})
scenario("hotel_rooms", "Which hotel room would you book?", {
  {"nightly_rate", "dollars", 70, 600}, {"guest_rating", "stars out of 5", 2.5, 5},
  {"distance_to_center", "kilometers", 0.2, 12}, {"room_size", "square meters", 14, 60},
  {"breakfast_value", "dollars per person", 0, 35}})
scenario("campsites", "Which campsite would you reserve?", {
  {"nightly_fee", "dollars", 0, 60}, {"walk_to_water", "meters", 10, 800},
  {"shade_cover", "percent", 0, 100}, {"site_spacing", "meters to nearest neighbor", 5, 80},
  {"tree_canopy_height", "meters", 2, 35}})
scenario("vacation_rentals", "Which vacation rental would you book?", {
  {"total_price", "dollars per week", 700, 6000}, {"host_rating", "stars out of 5", 3.5, 5},
  {"walk_to_beach", "minutes", 1, 40}, {"cleaning_fee", "dollars", 0, 300},
  {"private_outdoor_space", "square meters", 0, 150}})
scenario("retirement_communities", "Which retirement community would you move into?", {
  {"monthly_fee", "dollars", 2000, 9000}, {"on_site_nurses", "nurses per 100 residents", 1, 12},
  {"unit_size", "square feet", 450, 1600}, {"activities_per_week", "organized activities", 5, 60},
  {"distance_to_family", "miles", 1, 500}})
scenario("neighborhoods", "Which neighborhood would you prefer to live in?", {
  {"median_rent", "dollars per month", 900, 4500}, {"walk_score", "points out of 100", 10, 100},
  {"park_area", "percent of land", 1, 30}, {"crime_rate", "incidents per 1,000 residents", 5, 60},
  {"cafes_within_walk", "cafes", 0, 40}})
scenario("cities_to_relocate", "Which city would you relocate to?", {
  {"median_salary", "thousand dollars per year", 35, 120}, {"sunny_days", "days per year", 90, 300},
  {"population", "millions", 0.2, 9}, {"average_commute", "minutes each way", 15, 60},
  {"cost_of_living_index", "index points", 70, 180}})
scenario("coworking_spaces", "Which coworking space would you join?", {
  {"monthly_membership", "dollars", 100, 700}, {"meeting_room_hours", "hours per month", 0, 20},
  {"open_hours", "hours per day", 10, 24}, {"desk_width", "centimeters", 100, 180},
  {"coffee_quality", "rating out of 5", 1, 5}})
scenario("wedding_venues", "Which wedding venue would you book?", {
  {"rental_fee", "dollars", 2000, 25000}, {"guest_capacity", "guests", 50, 400},
  {"catering_cost", "dollars per guest", 40, 200}, {"distance_for_guests", "kilometers", 1, 150},
  {"hours_included", "hours", 4, 12}})
scenario("boat_moorings", "Which boat mooring would you rent?", {
  {"annual_fee", "dollars", 800, 9000}, {"water_depth", "meters at low tide", 1, 6},
  {"wave_shelter", "shelter rating out of 10", 1, 10}, {"dinghy_ride", "minutes to shore", 0, 20},
  {"max_boat_length", "meters", 6, 20}})
scenario("garden_allotments", "Which community garden plot would you take?", {
  {"plot_area", "square meters", 10, 250}, {"yearly_fee", "dollars", 20, 200},
  {"sun_exposure", "hours per day", 3, 10}, {"soil_ph", "pH", 5.5, 7.5},
  {"distance_to_tap", "meters", 2, 120}})

---------------------------------------------------------------------------------------------------
-- Money: loans, accounts, insurance, investments
---------------------------------------------------------------------------------------------------
scenario("personal_loans", "Which personal loan would you take?", {
  {"interest_rate", "percent APR", 4, 30}, {"loan_amount", "dollars", 1000, 40000},
  {"term", "months", 12, 84}, {"origination_fee", "percent of principal", 0, 8},
  {"approval_time", "days", 1, 14}})
scenario("home_mortgages", "Which mortgage would you choose?", {
  {"fixed_rate", "percent per year", 2.5, 8}, {"term_length", "years", 10, 30},
  {"down_payment", "percent of price", 3, 25}, {"closing_costs", "dollars", 2000, 15000},
  {"rate_lock_period", "days", 30, 120}})
scenario("credit_cards", "Which credit card would you sign up for?", {
  {"annual_fee", "dollars", 0, 550}, {"purchase_apr", "percent", 12, 30},
  {"cashback_rate", "percent", 0.5, 5}, {"sign_up_bonus", "dollars", 0, 1000},
  {"credit_limit", "dollars", 500, 25000}})
scenario("savings_accounts", "Which savings account would you open?", {
  {"annual_yield", "percent APY", 0.01, 5.5}, {"minimum_balance", "dollars", 0, 10000},
  {"monthly_fee", "dollars", 0, 15}, {"branch_count", "branches nearby", 0, 30},
  {"free_withdrawals", "per month", 0, 10}})
scenario("index_funds", "Which index fund would you invest in?", {
  {"expense_ratio", "percent per year", 0.02, 0.9}, {"ten_year_return", "percent per year", 3, 15},
  {"holdings", "companies", 30, 4000}, {"tracking_error", "percent", 0.01, 0.5},
  {"dividend_yield", "percent", 0.5, 4.5}})
scenario("car_leases", "Which car lease would you sign?", {
  {"monthly_payment", "dollars", 180, 900}, {"due_at_signing", "dollars", 0, 5000},
  {"mileage_allowance", "thousand miles per year", 7.5, 15}, {"lease_term", "months", 24, 48},
  {"excess_mileage_fee", "dollars per mile", 0.1, 0.4}})
scenario("health_insurance_plans", "Which health insurance plan would you enroll in?", {
  {"monthly_premium", "dollars", 150, 900}, {"deductible", "dollars", 0, 7500},
  {"coinsurance", "percent", 0, 40}, {"out_of_pocket_max", "dollars", 2000, 9500},
  {"in_network_doctors", "doctors nearby", 20, 800}})
scenario("auto_insurance_policies", "Which auto insurance policy would you buy?", {
  {"six_month_premium", "dollars", 300, 2000}, {"collision_deductible", "dollars", 250, 2000},
  {"liability_limit", "thousand dollars", 25, 500}, {"claim_satisfaction", "rating out of 10", 3, 10},
  {"roadside_assistance_calls", "calls per year", 0, 6}})
scenario("renters_insurance", "Which renters insurance policy would you choose?", {
  {"annual_premium", "dollars", 90, 400}, {"personal_property_limit", "thousand dollars", 10, 100},
  {"deductible_amount", "dollars", 100, 2500}, {"claim_payout_days", "days", 3, 45},
  {"liability_coverage", "thousand dollars", 100, 500}})
scenario("term_life_insurance", "Which life insurance policy would you buy?", {
  {"death_benefit", "thousand dollars", 100, 2000}, {"monthly_premium", "dollars", 15, 200},
  {"term_years", "years", 10, 30}, {"insurer_strength", "financial strength score", 1, 4},
  {"medical_exam_minutes", "minutes", 0, 90}})
scenario("pet_insurance_plans", "Which pet insurance plan would you buy?", {
  {"monthly_premium", "dollars", 10, 90}, {"reimbursement_rate", "fraction of bill", 0.5, 0.9},
  {"annual_limit", "thousand dollars", 2, 30}, {"waiting_period", "days", 0, 30},
  {"deductible", "dollars", 0, 1000}})
scenario("travel_insurance", "Which travel insurance policy would you add to your trip?", {
  {"policy_cost", "percent of trip price", 3, 12}, {"medical_coverage", "thousand dollars", 10, 500},
  {"cancellation_refund", "fraction refunded", 0.5, 1}, {"baggage_limit", "dollars", 500, 3000},
  {"claim_window", "days", 20, 180}})
scenario("retirement_plans", "Which employer retirement plan would you enroll in?", {
  {"employer_match", "percent of salary", 0, 8}, {"vesting_period", "years", 0, 6},
  {"fund_choices", "funds", 5, 60}, {"average_fee", "percent per year", 0.05, 1.2},
  {"loan_option_limit", "thousand dollars", 0, 50}})
scenario("government_bonds", "Which bond would you buy?", {
  {"coupon_rate", "percent per year", 0.5, 7}, {"maturity", "years", 1, 30},
  {"credit_rating_notches", "notches below top rating", 0, 9}, {"face_value", "dollars", 100, 10000},
  {"bid_ask_spread", "percent", 0.01, 0.5}})
scenario("brokerage_accounts", "Which brokerage account would you open?", {
  {"trade_commission", "dollars per trade", 0, 10}, {"margin_rate", "percent", 5, 13},
  {"research_reports", "reports per month", 0, 200}, {"app_rating", "stars out of 5", 2, 5},
  {"cash_sweep_yield", "percent", 0.01, 4.5}})
scenario("student_loans", "Which student loan would you take out?", {
  {"interest_rate", "percent per year", 3, 14}, {"grace_period", "months", 0, 12},
  {"repayment_term", "years", 5, 25}, {"cosigner_release", "on-time payments needed", 12, 48},
  {"deferment_allowance", "months", 0, 36}})
scenario("checking_accounts", "Which checking account would you open?", {
  {"monthly_fee", "dollars", 0, 25}, {"atm_network_size", "thousand ATMs", 1, 60},
  {"overdraft_fee", "dollars", 0, 38}, {"mobile_deposit_limit", "thousand dollars", 1, 50},
  {"interest_paid", "percent", 0.01, 1.5}})
scenario("small_business_loans", "Which small business loan would you take?", {
  {"annual_rate", "percent", 5, 25}, {"amount_offered", "thousand dollars", 10, 500},
  {"repayment_years", "years", 1, 10}, {"collateral_required", "percent of loan", 0, 100},
  {"days_to_funding", "days", 1, 60}})
scenario("home_warranties", "Which home warranty would you buy?", {
  {"annual_cost", "dollars", 300, 900}, {"service_call_fee", "dollars", 60, 150},
  {"appliance_cap", "dollars per item", 500, 3000}, {"technician_response", "hours", 4, 72},
  {"covered_systems", "systems", 5, 20}})
scenario("crowdfunding_rewards", "Which crowdfunding campaign would you back?", {
  {"pledge_amount", "dollars", 5, 300}, {"funded_so_far", "fraction of goal", 0.1, 3},
  {"delivery_delay", "months after campaign", 1, 18}, {"creator_past_projects", "projects", 0, 12},
  {"backer_count", "backers", 10, 5000}})

---------------------------------------------------------------------------------------------------
-- Travel and trips
---------------------------------------------------------------------------------------------------
scenario("beach_vacations", "Which beach vacation would you prefer?", {
  {"package_price", "dollars per person", 600, 5000}, {"water_temperature", "degrees Celsius", 18, 30},
  {"flight_time", "hours", 1, 14}, {"trip_length", "nights", 3, 14},
  {"beach_crowding", "people per 100 meters of shore", 2, 200}})
scenario("airline_flights", "Which flight would you book?", {
  {"ticket_price", "dollars", 80, 1500}, {"layovers", "stops", 0, 3},
  {"total_travel_time", "hours", 1.5, 30}, {"seat_pitch", "inches", 28, 36},
  {"on_time_rate", "fraction of flights", 0.6, 0.95}})
scenario("ocean_cruises", "Which cruise would you go on?", {
  {"fare", "dollars per person", 400, 6000}, {"ports_of_call", "ports", 1, 12},
  {"cabin_size", "square feet", 120, 450}, {"passenger_count", "thousand passengers", 0.2, 6},
  {"days_at_sea", "days", 0, 7}})
scenario("train_journeys", "Which train journey would you take?", {
  {"fare", "dollars", 20, 400}, {"journey_time", "hours", 1, 40},
  {"legroom", "centimeters", 70, 110}, {"changes", "train changes", 0, 4},
  {"scenic_rating", "rating out of 10", 1, 10}})
scenario("ski_resorts", "Which ski resort would you visit?", {
  {"lift_ticket", "dollars per day", 40, 250}, {"skiable_terrain", "hectares", 100, 3000},
  {"vertical_drop", "meters", 300, 2000}, {"snowfall", "centimeters per year", 150, 1200},
  {"lift_queue", "minutes", 0, 30}})
scenario("theme_parks", "Which theme park would you visit?", {
  {"admission", "dollars", 30, 180}, {"roller_coasters", "rides", 1, 20},
  {"average_wait", "minutes", 5, 90}, {"food_price_index", "dollars per meal", 9, 30},
  {"distance_from_hotel", "kilometers", 0.5, 40}})
scenario("guided_city_tours", "Which guided city tour would you join?", {
  {"tour_price", "dollars", 0, 120}, {"group_size", "people", 2, 40},
  {"tour_length", "hours", 1, 6}, {"walking_distance", "kilometers", 0.5, 12},
  {"guide_rating", "stars out of 5", 3, 5}})
scenario("rental_cars", "Which rental car would you pick up?", {
  {"daily_rate", "dollars", 25, 180}, {"fuel_economy", "liters per 100 km", 3.5, 14},
  {"trunk_volume", "liters", 250, 700}, {"insurance_excess", "dollars", 0, 3000},
  {"pickup_wait", "minutes", 0, 60}})
scenario("road_trip_routes", "Which road trip route would you drive?", {
  {"total_distance", "kilometers", 300, 4000}, {"driving_days", "days", 2, 14},
  {"toll_costs", "dollars", 0, 250}, {"national_parks", "parks along the route", 0, 8},
  {"motel_price", "dollars per night", 50, 200}})
scenario("safari_trips", "Which safari would you book?", {
  {"trip_price", "thousand dollars", 2, 15}, {"game_drives", "drives", 4, 20},
  {"group_vehicle_size", "guests per vehicle", 2, 9}, {"big_five_sighting_rate", "fraction", 0.2, 0.9},
  {"lodge_rating", "stars out of 5", 3, 5}})
scenario("hostels", "Which hostel would you stay at?", {
  {"bed_price", "dollars per night", 10, 60}, {"dorm_size", "beds per room", 4, 16},
  {"cleanliness_score", "score out of 10", 5, 10}, {"social_events", "events per week", 0, 14},
  {"locker_size", "liters", 20, 120}})
scenario("campervan_rentals", "Which campervan would you rent for a road trip?", {
  {"daily_rental", "dollars", 60, 300}, {"berths", "sleeping places", 2, 6},
  {"fresh_water_tank", "liters", 20, 150}, {"fuel_consumption", "liters per 100 km", 7, 16},
  {"vehicle_age", "years", 0, 15}})
scenario("language_immersion_trips", "Which language immersion trip would you sign up for?", {
  {"program_cost", "dollars", 800, 6000}, {"class_hours", "hours per week", 10, 30},
  {"host_family_rating", "stars out of 5", 3, 5}, {"program_length", "weeks", 1, 12},
  {"class_size", "students", 1, 15}})
scenario("airport_lounges", "Which airport lounge would you use?", {
  {"day_pass_price", "dollars", 25, 80}, {"seat_occupancy", "fraction of seats taken", 0.2, 0.95},
  {"shower_wait", "minutes", 0, 45}, {"food_options", "hot dishes", 0, 12},
  {"walk_to_gate", "minutes", 2, 20}})
scenario("scuba_dive_trips", "Which scuba diving trip would you go on?", {
  {"trip_price", "dollars", 100, 1500}, {"dives_included", "dives", 2, 20},
  {"visibility", "meters", 5, 40}, {"water_temp", "degrees Celsius", 16, 30},
  {"max_depth", "meters", 12, 40}})
scenario("hiking_trails", "Which hiking trail would you hike?", {
  {"trail_length", "kilometers", 2, 30}, {"elevation_gain", "meters", 50, 1600},
  {"trail_traffic", "hikers per hour", 1, 60}, {"viewpoints", "viewpoints", 0, 10},
  {"trail_grade", "average grade in percent", 1, 25}})
scenario("honeymoon_destinations", "Which honeymoon destination would you choose?", {
  {"trip_cost", "thousand dollars", 2, 20}, {"flight_hours", "hours", 1, 20},
  {"average_temperature", "degrees Celsius", 10, 32}, {"rainy_days", "days per month", 0, 20},
  {"resort_privacy", "villas per hectare", 1, 25}})

---------------------------------------------------------------------------------------------------
-- Food and drink
---------------------------------------------------------------------------------------------------
scenario("green_teas", "Which green tea would you prefer?", {
  {"caffeine", "mg per cup", 10, 60}, {"price", "dollars per 100 grams", 4, 60},
  {"brew_temperature", "degrees Celsius", 60, 90}, {"harvest_age", "months since picking", 1, 24},
  {"astringency", "rating out of 5", 1, 5}})
scenario("whole_bean_coffees", "Which bag of coffee beans would you buy?", {
  {"price_per_kilo", "dollars", 12, 80}, {"roast_level", "roast level out of 5", 1, 5},
  {"acidity", "pH", 4.8, 5.4}, {"days_since_roast", "days", 1, 60},
  {"altitude_grown", "meters", 800, 2300}})
scenario("red_wines", "Which red wine would you pick?", {
  {"bottle_price", "dollars", 8, 120}, {"alcohol", "percent by volume", 12, 15.5},
  {"vintage_age", "years", 1, 20}, {"tannin_level", "rating out of 10", 1, 10},
  {"critic_score", "points", 80, 98}})
scenario("craft_beers", "Which craft beer would you order?", {
  {"abv", "percent", 3.5, 11}, {"bitterness", "IBU", 5, 100},
  {"pint_price", "dollars", 5, 12}, {"color", "SRM", 2, 40},
  {"carbonation", "volumes of CO2", 2, 3}})
scenario("cheeses", "Which cheese would you buy?", {
  {"aging", "months", 0, 36}, {"price", "dollars per pound", 6, 40},
  {"fat_content", "percent", 15, 40}, {"sharpness", "rating out of 10", 1, 10},
  {"moisture", "fraction of weight", 0.3, 0.6}})
scenario("chocolate_bars", "Which chocolate bar would you pick up at the checkout?", {
  {"cocoa_content", "percent", 30, 100}, {"bar_weight", "grams", 40, 200},
  {"sugar", "grams per bar", 0, 40}, {"price", "dollars", 1, 12},
  {"snap_hardness", "newtons", 10, 40}})
scenario("olive_oils", "Which olive oil would you buy?", {
  {"free_acidity", "percent oleic acid", 0.1, 0.8}, {"polyphenols", "mg per kg", 100, 800},
  {"price_per_liter", "dollars", 8, 60}, {"months_since_harvest", "months", 1, 24},
  {"pepperiness", "rating out of 5", 1, 5}})
scenario("sourdough_breads", "Which loaf of sourdough would you buy?", {
  {"loaf_weight", "grams", 400, 1200}, {"price", "dollars", 3, 12},
  {"crust_thickness", "millimeters", 1, 6}, {"whole_grain_share", "fraction of flour", 0, 1},
  {"fermentation_time", "hours", 8, 72}})
scenario("pizzerias", "Which pizzeria would you order from?", {
  {"pizza_price", "dollars", 8, 30}, {"delivery_time", "minutes", 15, 75},
  {"pizza_diameter", "inches", 10, 18}, {"crust_char", "rating out of 5", 1, 5},
  {"topping_count", "toppings available", 5, 40}})
scenario("sushi_restaurants", "Which sushi restaurant would you go to?", {
  {"omakase_price", "dollars", 40, 400}, {"fish_freshness", "hours since delivery", 2, 48},
  {"courses", "courses", 6, 22}, {"counter_seats", "seats", 6, 30},
  {"reservation_wait", "days", 0, 60}})
scenario("breakfast_cereals", "Which breakfast cereal would you buy?", {
  {"sugar_per_serving", "grams", 0, 18}, {"fiber", "grams per serving", 0, 14},
  {"box_price", "dollars", 2, 8}, {"protein", "grams per serving", 1, 12},
  {"crunch_retention", "minutes in milk", 1, 10}})
scenario("greek_yogurts", "Which yogurt would you buy?", {
  {"protein_per_cup", "grams", 5, 25}, {"added_sugar", "grams", 0, 20},
  {"fat_percentage", "percent milkfat", 0, 10}, {"tub_price", "dollars", 1, 7},
  {"live_cultures", "strains", 2, 12}})
scenario("hot_sauces", "Which hot sauce would you try?", {
  {"heat", "thousand Scoville units", 1, 500}, {"bottle_size", "milliliters", 60, 350},
  {"price", "dollars", 3, 20}, {"vinegar_tang", "rating out of 5", 1, 5},
  {"sodium", "mg per teaspoon", 50, 400}})
scenario("raw_honeys", "Which jar of honey would you buy?", {
  {"jar_weight", "grams", 200, 1000}, {"price", "dollars", 5, 40},
  {"moisture_content", "percent", 15, 20}, {"floral_sources", "flower species", 1, 12},
  {"crystallization_speed", "weeks until set", 1, 30}})
scenario("protein_bars", "Which protein bar would you buy?", {
  {"protein", "grams", 8, 30}, {"calories", "kcal", 150, 400},
  {"sugar", "grams", 0, 25}, {"price_per_bar", "dollars", 1, 4},
  {"chewiness", "rating out of 10", 1, 10}})
scenario("meal_kit_services", "Which meal kit service would you subscribe to?", {
  {"price_per_serving", "dollars", 5, 15}, {"prep_time", "minutes", 10, 60},
  {"weekly_recipes", "recipes to choose from", 8, 60}, {"packaging_waste", "grams per meal", 50, 400},
  {"calories_per_serving", "kcal", 400, 900}})
scenario("apple_varieties", "Which apple variety would you buy?", {
  {"sweetness", "degrees Brix", 10, 18}, {"tartness", "percent malic acid", 0.2, 1},
  {"crispness", "rating out of 10", 1, 10}, {"price_per_kilo", "dollars", 2, 8},
  {"storage_life", "weeks", 2, 30}})
scenario("steak_cuts", "Which steak would you order?", {
  {"weight", "ounces", 6, 24}, {"price", "dollars", 18, 90},
  {"marbling", "marbling score out of 12", 1, 12}, {"dry_aging", "days", 0, 60},
  {"thickness", "centimeters", 1.5, 5}})
scenario("ramen_shops", "Which ramen shop would you eat at?", {
  {"bowl_price", "dollars", 8, 22}, {"broth_simmer_time", "hours", 4, 48},
  {"noodle_thickness", "millimeters", 1, 4}, {"line_wait", "minutes", 0, 90},
  {"spiciness", "rating out of 10", 0, 10}})
scenario("food_trucks", "Which food truck would you buy lunch from?", {
  {"meal_price", "dollars", 6, 18}, {"queue_length", "people", 0, 25},
  {"portion_weight", "grams", 250, 700}, {"hygiene_score", "points out of 100", 70, 100},
  {"menu_items", "dishes", 3, 20}})
scenario("fruit_smoothies", "Which smoothie would you order?", {
  {"cup_size", "ounces", 12, 32}, {"price", "dollars", 4, 11},
  {"sugar", "grams", 10, 80}, {"protein_boost", "grams", 0, 30},
  {"fruit_servings", "servings", 1, 4}})
scenario("ice_cream_shops", "Which ice cream shop would you go to?", {
  {"scoop_price", "dollars", 2.5, 7}, {"flavors", "flavors", 8, 60},
  {"butterfat", "percent", 8, 18}, {"overrun", "percent air", 20, 100},
  {"walk_from_home", "minutes", 2, 30}})
scenario("sparkling_waters", "Which sparkling water would you stock up on?", {
  {"carbonation_level", "grams of CO2 per liter", 4, 9}, {"sodium", "mg per liter", 0, 400},
  {"price_per_can", "dollars", 0.3, 1.5}, {"flavor_intensity", "rating out of 5", 0, 5},
  {"mineral_content", "mg per liter of dissolved solids", 20, 3000}})
scenario("kombuchas", "Which kombucha would you drink?", {
  {"sugar", "grams per bottle", 2, 24}, {"acidity", "pH", 2.5, 3.5},
  {"price", "dollars per bottle", 2, 6}, {"fizz", "rating out of 5", 1, 5},
  {"ferment_days", "days", 7, 30}})
scenario("farmers_market_stalls", "Which farmers market stall would you buy vegetables from?", {
  {"price_index", "dollars per kilo", 2, 9}, {"harvest_to_stall", "hours", 4, 72},
  {"varieties", "vegetable kinds", 4, 40}, {"farm_distance", "kilometers", 5, 200},
  {"pesticide_residue", "fraction of legal limit", 0, 0.5}})
scenario("bakery_croissants", "Which croissant would you buy?", {
  {"butter_content", "percent of dough", 15, 35}, {"layers", "layers", 12, 81},
  {"price", "dollars", 1.5, 6}, {"minutes_out_of_oven", "minutes", 0, 240},
  {"weight", "grams", 40, 110}})
scenario("instant_noodles", "Which instant noodles would you stock in your pantry?", {
  {"sodium", "mg per pack", 700, 2500}, {"cook_time", "minutes", 1, 5},
  {"pack_price", "dollars", 0.3, 4}, {"noodle_weight", "grams", 60, 140},
  {"spice_level", "rating out of 5", 0, 5}})
scenario("dinner_date_restaurants", "Which restaurant would you pick for a dinner date?", {
  {"price_for_two", "dollars", 40, 400}, {"noise", "decibels", 55, 85},
  {"table_spacing", "meters", 0.5, 2}, {"review_score", "stars out of 5", 3, 5},
  {"wine_list", "wines by the glass", 2, 40}})
scenario("black_tea_tins", "Which black tea would you buy?", {
  {"caffeine", "mg per cup", 30, 90}, {"leaf_grade", "grade out of 10", 1, 10},
  {"malt_notes", "rating out of 5", 1, 5}, {"price_per_tin", "dollars", 5, 45},
  {"infusions", "infusions per serving", 1, 3}})
scenario("bottled_waters", "Which bottled water would you buy?", {
  {"ph_level", "pH", 6.5, 8.5}, {"bottle_price", "dollars", 0.5, 4},
  {"calcium", "mg per liter", 5, 120}, {"bottle_volume", "liters", 0.3, 1.5},
  {"recycled_plastic", "percent", 0, 100}})

---------------------------------------------------------------------------------------------------
-- Electronics and gadgets
---------------------------------------------------------------------------------------------------
scenario("laptops", "Which laptop would you buy?", {
  {"price", "dollars", 300, 3000}, {"battery_life", "hours", 4, 22},
  {"weight", "kilograms", 0.9, 3}, {"ram", "gigabytes", 4, 64},
  {"screen_size", "inches", 11, 18}})
scenario("smartphones", "Which smartphone would you buy?", {
  {"price", "dollars", 150, 1500}, {"battery_capacity", "mAh", 2500, 6000},
  {"storage", "gigabytes", 32, 1024}, {"camera_resolution", "megapixels", 8, 200},
  {"years_of_updates", "years", 1, 7}})
scenario("tablets", "Which tablet would you buy?", {
  {"price", "dollars", 100, 1400}, {"screen_diagonal", "inches", 7, 13},
  {"tablet_weight", "grams", 280, 750}, {"pixel_density", "pixels per inch", 150, 330},
  {"battery_hours", "hours", 6, 15}})
scenario("wireless_headphones", "Which pair of wireless headphones would you buy?", {
  {"price", "dollars", 30, 550}, {"noise_cancellation", "decibels reduced", 0, 40},
  {"battery_life", "hours", 5, 60}, {"weight", "grams", 150, 400},
  {"bluetooth_latency", "milliseconds", 40, 250}})
scenario("televisions", "Which television would you buy?", {
  {"screen_size", "inches", 32, 85}, {"price", "dollars", 200, 4000},
  {"peak_brightness", "nits", 300, 2000}, {"refresh_rate", "hertz", 60, 144},
  {"input_lag", "milliseconds", 5, 40}})
scenario("computer_monitors", "Which computer monitor would you buy?", {
  {"diagonal", "inches", 21, 49}, {"price", "dollars", 100, 1500},
  {"refresh_rate", "hertz", 60, 360}, {"response_time", "milliseconds", 0.5, 5},
  {"color_gamut", "percent of DCI-P3", 70, 100}})
scenario("mirrorless_cameras", "Which camera would you buy?", {
  {"body_price", "dollars", 500, 4000}, {"sensor_resolution", "megapixels", 12, 61},
  {"burst_rate", "frames per second", 5, 40}, {"body_weight", "grams", 350, 900},
  {"stabilization", "stops", 0, 8}})
scenario("camera_drones", "Which drone would you buy?", {
  {"price", "dollars", 200, 2500}, {"flight_time", "minutes", 15, 45},
  {"range", "kilometers", 1, 15}, {"takeoff_weight", "grams", 200, 1000},
  {"max_wind", "meters per second", 5, 15}})
scenario("smartwatches", "Which smartwatch would you wear?", {
  {"price", "dollars", 50, 800}, {"battery_days", "days", 1, 21},
  {"case_size", "millimeters", 38, 49}, {"water_resistance", "meters", 10, 100},
  {"heart_rate_error", "beats per minute", 1, 4}})
scenario("e_readers", "Which e-reader would you buy?", {
  {"price", "dollars", 80, 400}, {"screen_size", "inches", 6, 10.3},
  {"resolution", "pixels per inch", 160, 300}, {"weeks_per_charge", "weeks", 2, 10},
  {"page_turn_time", "seconds", 0.1, 0.8}})
scenario("wifi_routers", "Which Wi-Fi router would you buy?", {
  {"price", "dollars", 40, 600}, {"throughput", "gigabits per second", 0.3, 10},
  {"coverage", "square meters", 80, 500}, {"ethernet_ports", "ports", 1, 8},
  {"simultaneous_devices", "devices", 16, 200}})
scenario("game_consoles", "Which game console would you buy?", {
  {"price", "dollars", 200, 700}, {"storage", "terabytes", 0.5, 2},
  {"exclusive_titles", "games", 5, 80}, {"power_draw", "watts", 15, 220},
  {"fan_noise", "decibels", 20, 45}})
scenario("mechanical_keyboards", "Which keyboard would you buy?", {
  {"price", "dollars", 30, 300}, {"actuation_force", "grams", 35, 80},
  {"key_travel", "millimeters", 1, 4}, {"keyboard_weight", "kilograms", 0.5, 2},
  {"polling_rate", "hertz", 125, 8000}})
scenario("computer_mice", "Which computer mouse would you buy?", {
  {"price", "dollars", 10, 160}, {"sensor_dpi", "dots per inch", 800, 26000},
  {"mouse_weight", "grams", 45, 140}, {"buttons", "buttons", 2, 12},
  {"battery_weeks", "weeks", 1, 40}})
scenario("external_drives", "Which external drive would you buy?", {
  {"capacity", "terabytes", 0.5, 20}, {"price", "dollars", 40, 500},
  {"read_speed", "megabytes per second", 100, 2000}, {"drop_height", "meters survived", 0, 3},
  {"warranty", "years", 1, 5}})
scenario("laser_printers", "Which printer would you buy?", {
  {"price", "dollars", 80, 800}, {"print_speed", "pages per minute", 15, 60},
  {"cost_per_page", "cents", 1, 8}, {"duty_cycle", "thousand pages per month", 5, 80},
  {"warmup_time", "seconds", 5, 40}})
scenario("home_projectors", "Which projector would you buy?", {
  {"price", "dollars", 150, 3500}, {"brightness", "lumens", 500, 4000},
  {"throw_ratio", "distance per image width", 0.25, 2}, {"fan_noise", "decibels", 22, 40},
  {"lamp_life", "thousand hours", 3, 30}})
scenario("soundbars", "Which soundbar would you buy?", {
  {"price", "dollars", 80, 1200}, {"channels", "channels", 2, 9},
  {"bass_extension", "hertz", 30, 90}, {"bar_length", "centimeters", 50, 140},
  {"max_volume", "decibels", 85, 110}})
scenario("fitness_trackers", "Which fitness tracker would you wear?", {
  {"price", "dollars", 25, 300}, {"battery_days", "days", 3, 21},
  {"step_count_error", "percent", 1, 10}, {"band_width", "millimeters", 15, 25},
  {"sleep_stage_accuracy", "fraction agreement with lab", 0.5, 0.9}})
scenario("power_banks", "Which power bank would you carry?", {
  {"capacity", "mAh", 5000, 30000}, {"output_power", "watts", 10, 140},
  {"weight", "grams", 100, 650}, {"price", "dollars", 15, 150},
  {"recharge_time", "hours", 1, 10}})
scenario("robot_vacuums", "Which robot vacuum would you buy?", {
  {"price", "dollars", 150, 1500}, {"suction", "pascals", 1500, 10000},
  {"runtime", "minutes", 60, 200}, {"dustbin", "liters", 0.3, 0.7},
  {"height", "centimeters", 7, 11}})
scenario("electric_toothbrushes", "Which electric toothbrush would you use?", {
  {"price", "dollars", 20, 300}, {"strokes_per_minute", "thousand strokes", 8, 60},
  {"battery_weeks", "weeks", 1, 6}, {"head_cost", "dollars per head", 2, 12},
  {"brushing_modes", "modes", 1, 7}})
scenario("bluetooth_speakers", "Which portable speaker would you buy?", {
  {"price", "dollars", 20, 400}, {"loudness", "decibels", 75, 110},
  {"battery_life", "hours", 5, 30}, {"speaker_weight", "kilograms", 0.2, 6},
  {"waterproofing", "meters submerged", 0, 1.5}})
scenario("graphics_cards", "Which graphics card would you buy?", {
  {"price", "dollars", 200, 2000}, {"video_memory", "gigabytes", 6, 24},
  {"board_power", "watts", 100, 450}, {"benchmark_fps", "frames per second", 40, 200},
  {"card_length", "millimeters", 170, 340}})
scenario("dash_cameras", "Which dash camera would you install?", {
  {"price", "dollars", 30, 400}, {"video_resolution", "vertical pixels", 720, 2160},
  {"field_of_view", "degrees", 120, 170}, {"night_clarity", "rating out of 10", 1, 10},
  {"parking_mode_hours", "hours", 0, 48}})
scenario("home_security_systems", "Which home security system would you install?", {
  {"equipment_cost", "dollars", 100, 1500}, {"monitoring_fee", "dollars per month", 0, 60},
  {"cameras_included", "cameras", 0, 8}, {"response_time", "seconds to alert", 5, 60},
  {"battery_backup", "hours", 4, 48}})
scenario("smart_thermostats", "Which thermostat would you install?", {
  {"price", "dollars", 30, 280}, {"energy_savings", "percent of heating bill", 5, 23},
  {"sensor_accuracy", "degrees Celsius", 0.1, 0.9}, {"setup_minutes", "minutes", 10, 90},
  {"schedule_slots", "periods per day", 2, 12}})
scenario("webcams", "Which webcam would you buy?", {
  {"price", "dollars", 20, 250}, {"frame_rate", "frames per second", 24, 60},
  {"low_light_score", "rating out of 10", 1, 10}, {"field_of_view", "degrees", 60, 120},
  {"microphone_snr", "decibels", 55, 75}})

---------------------------------------------------------------------------------------------------
-- Vehicles and boats
---------------------------------------------------------------------------------------------------
scenario("commuter_bicycles", "Which bicycle would you commute on?", {
  {"price", "dollars", 250, 3000}, {"frame_weight", "kilograms", 8, 18},
  {"gears", "speeds", 1, 24}, {"tire_width", "millimeters", 25, 60},
  {"cargo_capacity", "kilograms", 0, 40}})
scenario("electric_bikes", "Which e-bike would you buy?", {
  {"price", "dollars", 800, 6000}, {"range", "kilometers", 30, 150},
  {"motor_torque", "newton meters", 30, 90}, {"bike_weight", "kilograms", 15, 32},
  {"charge_time", "hours", 2, 7}})
scenario("used_cars", "Which used car would you buy?", {
  {"price", "thousand dollars", 3, 40}, {"odometer", "thousand miles", 5, 180},
  {"model_year_age", "years", 1, 15}, {"fuel_economy", "miles per gallon", 18, 55},
  {"owners", "previous owners", 1, 5}})
scenario("electric_cars", "Which electric car would you buy?", {
  {"price", "thousand dollars", 25, 110}, {"range", "kilometers", 200, 650},
  {"fast_charge_time", "minutes to 80 percent", 18, 60}, {"acceleration", "seconds 0-100 km/h", 3, 10},
  {"cargo_space", "liters", 300, 900}})
scenario("motorcycles", "Which motorcycle would you ride?", {
  {"price", "thousand dollars", 4, 30}, {"engine_size", "cubic centimeters", 125, 1800},
  {"seat_height", "centimeters", 68, 90}, {"wet_weight", "kilograms", 140, 350},
  {"fuel_range", "kilometers", 150, 500}})
scenario("kick_scooters", "Which electric scooter would you buy?", {
  {"price", "dollars", 250, 2000}, {"top_speed", "km per hour", 20, 60},
  {"range", "kilometers", 15, 80}, {"scooter_weight", "kilograms", 11, 35},
  {"wheel_diameter", "inches", 8, 12}})
scenario("pickup_trucks", "Which pickup truck would you buy?", {
  {"price", "thousand dollars", 28, 90}, {"towing_capacity", "thousand pounds", 3.5, 14},
  {"bed_length", "feet", 5, 8}, {"fuel_economy", "miles per gallon", 14, 30},
  {"ground_clearance", "inches", 8, 12}})
scenario("motorhomes", "Which motorhome would you buy?", {
  {"price", "thousand dollars", 60, 400}, {"length", "feet", 20, 40},
  {"sleeping_berths", "berths", 2, 8}, {"fresh_water", "gallons", 20, 100},
  {"fuel_economy", "miles per gallon", 6, 18}})
scenario("sailboats", "Which sailboat would you buy?", {
  {"price", "thousand dollars", 5, 300}, {"length_overall", "feet", 16, 50},
  {"draft", "meters", 0.5, 2.5}, {"berths", "berths", 0, 8},
  {"hull_age", "years", 0, 50}})
scenario("touring_kayaks", "Which kayak would you paddle?", {
  {"price", "dollars", 300, 3500}, {"kayak_length", "meters", 3, 5.5},
  {"hull_weight", "kilograms", 12, 30}, {"primary_stability", "rating out of 10", 1, 10},
  {"storage_hatches", "hatches", 0, 3}})
scenario("skateboards", "Which skateboard would you ride?", {
  {"deck_width", "inches", 7.5, 9}, {"price", "dollars", 40, 250},
  {"wheel_durometer", "durometer A", 78, 101}, {"wheelbase", "inches", 13, 15},
  {"bearing_precision", "ABEC grade", 1, 9}})
scenario("family_minivans", "Which minivan would you buy for the family?", {
  {"price", "thousand dollars", 30, 60}, {"seats", "seats", 7, 8},
  {"cargo_behind_third_row", "cubic feet", 28, 41}, {"crash_rating", "stars out of 5", 3, 5},
  {"highway_economy", "miles per gallon", 22, 36}})
scenario("cargo_bikes", "Which cargo bike would you use for the school run?", {
  {"price", "dollars", 1500, 8000}, {"payload", "kilograms", 60, 250},
  {"child_seats", "seats", 1, 4}, {"turning_circle", "meters", 3, 6},
  {"assisted_range", "kilometers", 0, 100}})
scenario("delivery_vans", "Which delivery van would you add to a fleet?", {
  {"price", "thousand dollars", 30, 80}, {"cargo_volume", "cubic meters", 5, 17},
  {"payload", "kilograms", 700, 2000}, {"fuel_cost", "dollars per 100 km", 8, 25},
  {"service_interval", "thousand kilometers", 10, 40}})
scenario("canoes", "Which canoe would you buy?", {
  {"price", "dollars", 500, 4000}, {"canoe_length", "feet", 14, 18.5},
  {"canoe_weight", "pounds", 30, 90}, {"capacity", "pounds", 600, 1200},
  {"hull_rocker", "inches", 0.5, 3}})
scenario("golf_carts", "Which golf cart would you buy?", {
  {"price", "dollars", 4000, 15000}, {"seats", "seats", 2, 6},
  {"top_speed", "mph", 12, 25}, {"battery_range", "miles", 15, 60},
  {"turning_radius", "feet", 8, 15}})
scenario("snowmobiles", "Which snowmobile would you ride?", {
  {"price", "thousand dollars", 7, 20}, {"engine_power", "horsepower", 50, 180},
  {"track_length", "inches", 121, 165}, {"dry_weight", "pounds", 450, 650},
  {"fuel_capacity", "liters", 30, 45}})
scenario("outboard_motors", "Which outboard motor would you buy?", {
  {"price", "thousand dollars", 1, 25}, {"horsepower", "horsepower", 2, 150},
  {"motor_weight", "kilograms", 12, 230}, {"fuel_burn", "liters per hour at cruise", 0.5, 30},
  {"noise", "decibels at idle", 50, 75}})

---------------------------------------------------------------------------------------------------
-- Outdoors, sport and fitness
---------------------------------------------------------------------------------------------------
scenario("backpacking_boots", "Which pair of hiking boots would you buy?", {
  {"price", "dollars", 80, 400}, {"boot_weight", "grams per pair", 700, 2000},
  {"waterproofing", "hours in wet grass", 0, 8}, {"ankle_height", "centimeters", 8, 20},
  {"break_in_time", "days", 0, 14}})
scenario("backpacking_tents", "Which tent would you take backpacking?", {
  {"price", "dollars", 100, 800}, {"packed_weight", "kilograms", 0.7, 4},
  {"floor_area", "square meters", 1.8, 4.5}, {"peak_height", "centimeters", 90, 130},
  {"wind_rating", "km per hour", 30, 100}})
scenario("sleeping_bags", "Which sleeping bag would you take camping?", {
  {"comfort_rating", "degrees Celsius", -15, 10}, {"bag_weight", "grams", 500, 2500},
  {"packed_volume", "liters", 4, 20}, {"price", "dollars", 50, 600},
  {"down_fill_power", "cubic inches per ounce", 550, 900}})
scenario("daypacks", "Which daypack would you buy?", {
  {"volume", "liters", 15, 35}, {"pack_weight", "grams", 300, 1400},
  {"price", "dollars", 30, 220}, {"pockets", "pockets", 1, 10},
  {"back_ventilation", "rating out of 5", 1, 5}})
scenario("road_running_shoes", "Which running shoes would you train in?", {
  {"price", "dollars", 60, 250}, {"shoe_weight", "grams", 180, 340},
  {"heel_drop", "millimeters", 0, 12}, {"stack_height", "millimeters", 15, 45},
  {"durability", "kilometers", 300, 1000}})
scenario("alpine_skis", "Which skis would you buy?", {
  {"price", "dollars", 300, 1100}, {"waist_width", "millimeters", 70, 120},
  {"ski_length", "centimeters", 150, 190}, {"turn_radius", "meters", 12, 25},
  {"ski_weight", "kilograms per pair", 2.5, 4.5}})
scenario("snowboards", "Which snowboard would you ride?", {
  {"price", "dollars", 250, 800}, {"board_length", "centimeters", 140, 165},
  {"flex", "stiffness out of 10", 1, 10}, {"effective_edge", "centimeters", 110, 130},
  {"setback", "millimeters", 0, 50}})
scenario("golf_drivers", "Which golf driver would you buy?", {
  {"price", "dollars", 150, 650}, {"loft", "degrees", 8, 12},
  {"head_volume", "cubic centimeters", 400, 460}, {"shaft_weight", "grams", 45, 75},
  {"forgiveness_moi", "thousand g cm squared", 4.5, 5.9}})
scenario("tennis_rackets", "Which tennis racket would you play with?", {
  {"head_size", "square inches", 95, 110}, {"strung_weight", "grams", 260, 340},
  {"balance_point", "millimeters from butt", 310, 340}, {"stiffness", "RA", 58, 72},
  {"price", "dollars", 60, 280}})
scenario("yoga_mats", "Which yoga mat would you buy?", {
  {"thickness", "millimeters", 1.5, 8}, {"grip", "rating out of 10", 1, 10},
  {"mat_weight", "kilograms", 0.9, 3.5}, {"price", "dollars", 15, 140},
  {"mat_length", "centimeters", 172, 200}})
scenario("climbing_ropes", "Which climbing rope would you buy?", {
  {"diameter", "millimeters", 8.5, 10.5}, {"rope_length", "meters", 40, 80},
  {"weight_per_meter", "grams", 48, 70}, {"falls_rated", "UIAA falls", 5, 12},
  {"price", "dollars", 120, 350}})
scenario("fishing_rods", "Which fishing rod would you use?", {
  {"rod_length", "feet", 5, 12}, {"price", "dollars", 30, 500},
  {"lure_weight", "grams", 2, 60}, {"rod_weight", "grams", 80, 300},
  {"sections", "pieces", 1, 4}})
scenario("surfboards", "Which surfboard would you ride?", {
  {"board_length", "feet", 5.5, 9.5}, {"volume", "liters", 25, 80},
  {"board_width", "inches", 18, 23}, {"price", "dollars", 350, 1200},
  {"rocker", "inches of nose lift", 3, 6.5}})
scenario("gym_memberships", "Which gym membership would you buy?", {
  {"monthly_fee", "dollars", 10, 200}, {"classes_per_week", "classes", 0, 80},
  {"drive_time", "minutes", 3, 35}, {"peak_crowding", "members per machine", 0.5, 4},
  {"opening_hours", "hours per day", 12, 24}})
scenario("treadmills", "Which treadmill would you buy?", {
  {"price", "dollars", 400, 4000}, {"motor_power", "continuous horsepower", 1.5, 4},
  {"belt_length", "centimeters", 125, 160}, {"max_incline", "percent", 10, 40},
  {"folded_depth", "centimeters", 40, 200}})
scenario("rowing_machines", "Which rowing machine would you buy?", {
  {"price", "dollars", 200, 2500}, {"resistance_levels", "levels", 8, 30},
  {"footprint", "square meters", 0.5, 1.5}, {"machine_noise", "decibels", 45, 75},
  {"max_user_weight", "kilograms", 100, 230}})
scenario("adjustable_dumbbells", "Which set of dumbbells would you buy?", {
  {"max_weight", "kilograms per hand", 10, 45}, {"increment", "kilograms", 1, 2.5},
  {"change_time", "seconds", 2, 60}, {"price", "dollars", 60, 700},
  {"handle_diameter", "millimeters", 28, 35}})
scenario("swimming_pools", "Which public pool would you swim laps in?", {
  {"lane_length", "meters", 25, 50}, {"entry_fee", "dollars", 2, 15},
  {"swimmers_per_lane", "swimmers", 1, 8}, {"water_temperature", "degrees Celsius", 25, 30},
  {"chlorine", "ppm", 1, 3}})
scenario("personal_trainers", "Which personal trainer would you hire?", {
  {"session_price", "dollars", 30, 150}, {"experience", "years", 1, 25},
  {"session_length", "minutes", 30, 90}, {"client_results", "fraction reaching goals", 0.3, 0.9},
  {"travel_to_gym", "minutes", 5, 40}})
scenario("climbing_gyms", "Which climbing gym would you join?", {
  {"monthly_fee", "dollars", 50, 150}, {"wall_height", "meters", 8, 18},
  {"routes", "routes", 40, 300}, {"route_reset_frequency", "routes reset per week", 5, 50},
  {"bouldering_area", "square meters", 100, 1200}})
scenario("martial_arts_dojos", "Which martial arts school would you train at?", {
  {"monthly_fee", "dollars", 60, 250}, {"classes_per_week", "classes", 2, 20},
  {"instructor_rank", "black belt degree", 1, 8}, {"class_size", "students", 5, 40},
  {"injury_rate", "injuries per 1,000 hours", 0.5, 4}})
scenario("bike_helmets", "Which bike helmet would you wear?", {
  {"price", "dollars", 30, 300}, {"helmet_weight", "grams", 200, 450},
  {"vents", "vents", 4, 30}, {"impact_test_score", "rating out of 5", 1, 5},
  {"visibility_light", "lumens", 0, 100}})
scenario("hiking_pole_pairs", "Which trekking poles would you buy?", {
  {"price", "dollars", 25, 200}, {"pair_weight", "grams", 300, 600},
  {"collapsed_length", "centimeters", 35, 70}, {"max_length", "centimeters", 120, 145},
  {"shaft_diameter", "millimeters", 12, 18}})
scenario("marathon_events", "Which marathon would you enter?", {
  {"entry_fee", "dollars", 60, 300}, {"elevation_gain", "meters", 20, 500},
  {"field_size", "thousand runners", 0.5, 50}, {"race_day_temperature", "degrees Celsius", 4, 22},
  {"spectators_per_kilometer", "spectators", 50, 5000}})
scenario("wetsuits", "Which wetsuit would you buy?", {
  {"thickness", "millimeters", 2, 6}, {"price", "dollars", 80, 600},
  {"water_temperature_limit", "degrees Celsius", 8, 22}, {"flexibility", "rating out of 10", 1, 10},
  {"drying_time", "hours", 2, 12}})

---------------------------------------------------------------------------------------------------
-- Work and education
---------------------------------------------------------------------------------------------------
scenario("job_offers", "Which job offer would you accept?", {
  {"annual_salary", "thousand dollars", 40, 250}, {"vacation_days", "days per year", 10, 35},
  {"commute_time", "minutes each way", 0, 90}, {"remote_days", "days per week", 0, 5},
  {"team_size", "people", 2, 40}})
scenario("summer_internships", "Which internship would you take?", {
  {"weekly_stipend", "dollars", 0, 2000}, {"duration", "weeks", 6, 16},
  {"mentor_hours", "hours per week", 0, 10}, {"return_offer_rate", "fraction of interns", 0.1, 0.9},
  {"housing_support", "dollars per month", 0, 2500}})
scenario("universities", "Which university would you attend?", {
  {"annual_tuition", "thousand dollars", 5, 65}, {"acceptance_rate", "fraction of applicants", 0.04, 0.9},
  {"student_faculty_ratio", "students per faculty", 5, 25}, {"graduate_salary", "thousand dollars", 35, 95},
  {"distance_from_home", "kilometers", 10, 3000}})
scenario("graduate_programs", "Which graduate program would you enroll in?", {
  {"funding", "thousand dollars per year", 0, 45}, {"program_length", "years", 1, 6},
  {"advisor_citations", "thousand citations", 0.5, 80}, {"placement_rate", "fraction employed in field", 0.4, 0.95},
  {"cohort_size", "students", 3, 120}})
scenario("online_courses", "Which online course would you take?", {
  {"course_price", "dollars", 0, 500}, {"video_hours", "hours", 2, 60},
  {"completion_rate", "fraction of learners", 0.05, 0.6}, {"graded_projects", "projects", 0, 10},
  {"instructor_rating", "stars out of 5", 3, 5}})
scenario("coding_bootcamps", "Which coding bootcamp would you join?", {
  {"tuition", "thousand dollars", 5, 20}, {"program_weeks", "weeks", 8, 36},
  {"job_placement", "fraction placed within 6 months", 0.4, 0.9}, {"hours_per_week", "hours", 15, 60},
  {"students_per_instructor", "students", 5, 30}})
scenario("apprenticeships", "Which apprenticeship would you apply for?", {
  {"starting_wage", "dollars per hour", 12, 30}, {"program_years", "years", 2, 5},
  {"classroom_hours", "hours per year", 100, 300}, {"wage_increase", "percent per year", 3, 15},
  {"completion_rate", "fraction", 0.4, 0.9}})
scenario("freelance_projects", "Which freelance project would you take on?", {
  {"fee", "dollars", 500, 20000}, {"deadline", "weeks", 1, 16},
  {"client_rating", "stars out of 5", 2, 5}, {"revisions_included", "rounds", 1, 6},
  {"upfront_payment", "fraction of fee", 0, 0.5}})
scenario("language_schools", "Which language school would you enroll in?", {
  {"course_fee", "dollars per month", 80, 900}, {"class_size", "students", 1, 18},
  {"lesson_hours", "hours per week", 2, 25}, {"native_teachers", "fraction of teachers", 0, 1},
  {"exam_pass_rate", "fraction", 0.5, 0.98}})
scenario("private_tutors", "Which tutor would you hire for your child?", {
  {"hourly_rate", "dollars", 15, 120}, {"teaching_experience", "years", 0, 30},
  {"grade_improvement", "average letter grades", 0.2, 1.5}, {"sessions_per_week", "sessions", 1, 5},
  {"travel_time", "minutes", 0, 45}})
scenario("summer_camps", "Which summer camp would you send your child to?", {
  {"weekly_cost", "dollars", 150, 1500}, {"camper_counselor_ratio", "campers per counselor", 3, 12},
  {"activities", "activities offered", 5, 40}, {"camp_distance", "kilometers", 2, 400},
  {"session_weeks", "weeks", 1, 8}})
scenario("daycare_centers", "Which daycare center would you choose?", {
  {"monthly_tuition", "dollars", 600, 3000}, {"child_staff_ratio", "children per caregiver", 3, 10},
  {"open_hours", "hours per day", 8, 12}, {"outdoor_play", "minutes per day", 30, 240},
  {"staff_turnover", "fraction per year", 0.05, 0.5}})
scenario("driving_schools", "Which driving school would you sign up with?", {
  {"package_price", "dollars", 200, 1500}, {"lesson_count", "lessons", 5, 30},
  {"first_time_pass_rate", "fraction", 0.4, 0.9}, {"lesson_length", "minutes", 45, 120},
  {"instructor_experience", "years", 1, 30}})
scenario("research_labs", "Which research lab would you join as a postdoc?", {
  {"salary", "thousand dollars", 45, 80}, {"lab_size", "members", 3, 40},
  {"papers_per_year", "papers", 2, 40}, {"contract_length", "years", 1, 5},
  {"equipment_budget", "thousand dollars per year", 5, 300}})
scenario("teaching_positions", "Which teaching position would you accept?", {
  {"salary", "thousand dollars", 35, 90}, {"class_size", "students", 12, 35},
  {"teaching_hours", "hours per week", 15, 30}, {"prep_periods", "periods per week", 2, 10},
  {"school_rating", "rating out of 10", 1, 10}})
scenario("nursing_shifts", "Which nursing job would you take?", {
  {"hourly_wage", "dollars", 30, 75}, {"shift_length", "hours", 8, 12},
  {"patients_per_nurse", "patients", 2, 8}, {"night_shifts", "per month", 0, 15},
  {"signing_bonus", "thousand dollars", 0, 20}})
scenario("remote_jobs", "Which remote job would you take?", {
  {"salary", "thousand dollars", 45, 200}, {"meeting_hours", "hours per week", 2, 25},
  {"time_zone_offset", "hours from yours", 0, 10}, {"home_office_stipend", "dollars per year", 0, 2000},
  {"company_age", "years", 1, 40}})
scenario("startup_offers", "Which startup offer would you accept?", {
  {"base_salary", "thousand dollars", 60, 200}, {"equity", "percent of company", 0.01, 2},
  {"runway", "months of cash", 6, 48}, {"employees", "people", 3, 300},
  {"funding_stage", "rounds raised", 0, 5}})
scenario("volunteer_roles", "Which volunteer role would you take on?", {
  {"hours_per_week", "hours", 1, 15}, {"commitment_length", "months", 1, 24},
  {"people_helped", "people per month", 5, 500}, {"training_required", "hours", 0, 40},
  {"travel_distance", "kilometers", 0, 30}})
scenario("thesis_topics", "Which thesis topic would you choose?", {
  {"expected_duration", "months", 4, 24}, {"data_availability", "fraction of data already collected", 0, 1},
  {"advisor_interest", "rating out of 10", 1, 10}, {"prior_papers", "papers on the topic", 0, 500},
  {"compute_needed", "GPU hours", 0, 5000}})
scenario("conference_talks", "Which conference talk would you attend?", {
  {"talk_length", "minutes", 15, 90}, {"speaker_h_index", "h-index", 1, 120},
  {"room_fullness", "fraction of seats taken", 0.1, 1}, {"walk_from_session", "minutes", 1, 15},
  {"slides_count", "slides", 5, 80}})
scenario("music_lessons", "Which music teacher would you take lessons from?", {
  {"lesson_price", "dollars", 20, 120}, {"lesson_length", "minutes", 30, 90},
  {"teaching_years", "years", 1, 40}, {"recitals_per_year", "recitals", 0, 6},
  {"commute", "minutes", 0, 40}})

---------------------------------------------------------------------------------------------------
-- Home, furniture and appliances
---------------------------------------------------------------------------------------------------
scenario("sofas", "Which sofa would you buy?", {
  {"price", "dollars", 300, 4000}, {"seat_depth", "centimeters", 50, 70},
  {"sofa_length", "centimeters", 150, 300}, {"cushion_firmness", "rating out of 10", 1, 10},
  {"delivery_weeks", "weeks", 1, 16}})
scenario("mattresses", "Which mattress would you sleep on?", {
  {"price", "dollars", 200, 3000}, {"firmness", "rating out of 10", 2, 9},
  {"mattress_height", "inches", 8, 16}, {"trial_period", "nights", 30, 365},
  {"heat_retention", "degrees Celsius above room", 0.5, 3}})
scenario("office_chairs", "Which office chair would you buy?", {
  {"price", "dollars", 80, 1500}, {"adjustment_points", "adjustments", 2, 12},
  {"seat_width", "centimeters", 45, 55}, {"recline_range", "degrees", 5, 30},
  {"warranty", "years", 1, 12}})
scenario("standing_desks", "Which standing desk would you buy?", {
  {"price", "dollars", 200, 1500}, {"desktop_width", "centimeters", 100, 200},
  {"lift_speed", "centimeters per second", 2, 5}, {"wobble_at_height", "millimeters", 1, 15},
  {"load_capacity", "kilograms", 50, 160}})
scenario("refrigerators", "Which refrigerator would you buy?", {
  {"price", "dollars", 500, 4000}, {"capacity", "cubic feet", 10, 30},
  {"annual_energy", "kWh", 300, 800}, {"fridge_noise", "decibels", 32, 45},
  {"freezer_share", "fraction of volume", 0.2, 0.5}})
scenario("washing_machines", "Which washing machine would you buy?", {
  {"price", "dollars", 400, 1800}, {"drum_capacity", "kilograms", 6, 12},
  {"cycle_time", "minutes", 30, 180}, {"water_per_cycle", "liters", 35, 80},
  {"spin_speed", "rpm", 800, 1600}})
scenario("dishwashers", "Which dishwasher would you install?", {
  {"price", "dollars", 350, 1800}, {"place_settings", "settings", 8, 16},
  {"noise", "decibels", 38, 55}, {"water_use", "liters per cycle", 6, 15},
  {"normal_cycle", "hours", 1, 4}})
scenario("air_conditioners", "Which air conditioner would you install?", {
  {"price", "dollars", 200, 3000}, {"cooling_capacity", "thousand BTU per hour", 5, 24},
  {"efficiency", "SEER", 13, 26}, {"indoor_noise", "decibels", 20, 55},
  {"install_cost", "dollars", 0, 2000}})
scenario("space_heaters", "Which space heater would you buy?", {
  {"price", "dollars", 20, 250}, {"heat_output", "watts", 400, 1500},
  {"warmup_time", "minutes", 1, 20}, {"surface_temperature", "degrees Celsius", 35, 90},
  {"heater_noise", "decibels", 0, 50}})
scenario("air_purifiers", "Which air purifier would you buy?", {
  {"price", "dollars", 50, 900}, {"clean_air_delivery", "cubic meters per hour", 100, 800},
  {"filter_cost", "dollars per year", 20, 200}, {"noise_on_low", "decibels", 20, 45},
  {"room_size", "square meters", 15, 100}})
scenario("blenders", "Which blender would you buy?", {
  {"price", "dollars", 30, 600}, {"motor_power", "watts", 300, 1800},
  {"jar_capacity", "liters", 0.5, 2.5}, {"speed_settings", "speeds", 1, 10},
  {"blender_noise", "decibels", 80, 100}})
scenario("espresso_machines", "Which espresso machine would you buy?", {
  {"price", "dollars", 100, 3000}, {"pump_pressure", "bar", 9, 19},
  {"heat_up_time", "minutes", 0.5, 30}, {"boilers", "boilers", 1, 2},
  {"temperature_stability", "degrees Celsius of drift", 0.2, 4}})
scenario("stand_mixers", "Which stand mixer would you buy?", {
  {"price", "dollars", 80, 700}, {"bowl_capacity", "liters", 3, 7},
  {"motor_wattage", "watts", 250, 1200}, {"mixer_weight", "kilograms", 4, 12},
  {"attachments", "attachments", 2, 12}})
scenario("cookware_sets", "Which cookware set would you buy?", {
  {"price", "dollars", 60, 1200}, {"pieces", "pieces", 5, 17},
  {"base_thickness", "millimeters", 2, 6}, {"max_oven_temperature", "degrees Celsius", 180, 300},
  {"heat_spread", "degrees Celsius across pan", 5, 40}})
scenario("chefs_knives", "Which chef's knife would you buy?", {
  {"price", "dollars", 20, 400}, {"blade_length", "centimeters", 15, 27},
  {"steel_hardness", "HRC", 54, 66}, {"knife_weight", "grams", 120, 300},
  {"edge_angle", "degrees per side", 10, 20}})
scenario("vacuum_cleaners", "Which vacuum cleaner would you buy?", {
  {"price", "dollars", 60, 900}, {"suction_power", "air watts", 50, 300},
  {"vacuum_weight", "kilograms", 2, 9}, {"cleaning_runtime", "minutes", 15, 120},
  {"bin_capacity", "liters", 0.3, 3}})
scenario("lawn_mowers", "Which lawn mower would you buy?", {
  {"price", "dollars", 150, 3000}, {"cutting_width", "centimeters", 32, 56},
  {"mower_weight", "kilograms", 10, 45}, {"engine_noise", "decibels", 60, 96},
  {"grass_bag", "liters", 30, 80}})
scenario("interior_paints", "Which interior paint would you use?", {
  {"price", "dollars per gallon", 20, 90}, {"coverage", "square feet per gallon", 250, 450},
  {"dry_time", "hours", 0.5, 4}, {"sheen", "gloss units", 1, 70},
  {"voc_content", "grams per liter", 0, 150}})
scenario("light_bulbs", "Which light bulb would you buy?", {
  {"brightness", "lumens", 400, 1600}, {"power", "watts", 4, 20},
  {"color_temperature", "kelvin", 2200, 6500}, {"color_rendering", "CRI", 80, 98},
  {"rated_life", "thousand hours", 10, 50}})
scenario("water_heaters", "Which water heater would you install?", {
  {"price", "dollars", 400, 4000}, {"tank_size", "gallons", 0, 80},
  {"efficiency_factor", "uniform energy factor", 0.6, 3.9}, {"recovery_rate", "gallons per hour", 20, 100},
  {"expected_life", "years", 8, 20}})
scenario("rooftop_solar_systems", "Which solar panel system would you put on your roof?", {
  {"installed_cost", "thousand dollars", 8, 40}, {"system_size", "kilowatts", 3, 15},
  {"panel_efficiency", "percent", 17, 23}, {"degradation", "percent per year", 0.25, 0.8},
  {"payback_period", "years", 5, 15}})
scenario("replacement_windows", "Which replacement windows would you install?", {
  {"price_per_window", "dollars", 200, 1500}, {"u_factor", "BTU per hour per sq ft per F", 0.15, 0.35},
  {"sound_reduction", "STC", 26, 45}, {"visible_transmittance", "fraction of light", 0.4, 0.7},
  {"install_days", "days", 1, 5}})
scenario("hardwood_flooring", "Which flooring would you install?", {
  {"price", "dollars per square foot", 2, 15}, {"plank_width", "inches", 3, 10},
  {"wear_layer", "millimeters", 0.3, 6}, {"hardness", "Janka pounds-force", 600, 2400},
  {"warranty", "years", 10, 50}})
scenario("area_rugs", "Which rug would you buy for the living room?", {
  {"price", "dollars", 80, 3000}, {"pile_height", "millimeters", 3, 40},
  {"rug_area", "square meters", 2, 12}, {"knot_density", "thousand knots per square meter", 20, 400},
  {"stain_resistance", "rating out of 10", 1, 10}})
scenario("houseplants", "Which houseplant would you buy?", {
  {"price", "dollars", 5, 150}, {"mature_height", "centimeters", 15, 250},
  {"light_needed", "hours of bright light", 2, 8}, {"watering_interval", "days", 2, 30},
  {"pet_toxicity", "rating out of 5", 0, 5}})
scenario("tomato_seeds", "Which tomato variety would you plant?", {
  {"days_to_harvest", "days", 50, 100}, {"fruit_weight", "grams", 10, 500},
  {"yield_per_plant", "kilograms", 2, 15}, {"disease_resistance", "resistances", 0, 6},
  {"seed_packet_price", "dollars", 2, 8}})
scenario("gas_grills", "Which grill would you buy?", {
  {"price", "dollars", 150, 2500}, {"burners", "burners", 2, 6},
  {"cooking_area", "square inches", 300, 900}, {"max_temperature", "degrees Fahrenheit", 500, 900},
  {"preheat_time", "minutes", 5, 20}})
scenario("patio_furniture_sets", "Which patio furniture set would you buy?", {
  {"price", "dollars", 200, 4000}, {"seats", "seats", 2, 10},
  {"frame_weight", "kilograms", 15, 120}, {"uv_fade_resistance", "years", 1, 10},
  {"cushion_drying", "hours", 1, 24}})
scenario("hot_tubs", "Which hot tub would you install?", {
  {"price", "thousand dollars", 3, 20}, {"seats", "people", 2, 8},
  {"jets", "jets", 10, 80}, {"monthly_energy", "dollars", 15, 60},
  {"water_volume", "liters", 800, 2000}})
scenario("tumble_dryers", "Which clothes dryer would you buy?", {
  {"price", "dollars", 400, 1800}, {"drum_volume", "cubic feet", 4, 9},
  {"drying_time", "minutes per load", 40, 120}, {"energy_per_load", "kWh", 1.5, 5},
  {"sensor_accuracy", "percent residual moisture", 1, 8}})
scenario("microwave_ovens", "Which microwave would you buy?", {
  {"price", "dollars", 60, 600}, {"power", "watts", 700, 1250},
  {"interior_volume", "liters", 17, 40}, {"turntable_diameter", "centimeters", 24, 36},
  {"door_noise", "decibels", 40, 65}})
scenario("kitchen_faucets", "Which kitchen faucet would you install?", {
  {"price", "dollars", 50, 700}, {"flow_rate", "gallons per minute", 1.2, 2.2},
  {"spout_reach", "inches", 7, 11}, {"spray_modes", "modes", 1, 4},
  {"finish_warranty", "years", 1, 25}})
scenario("water_filters", "Which water filter would you install?", {
  {"price", "dollars", 20, 800}, {"filter_life", "gallons", 40, 5000},
  {"lead_reduction", "fraction removed", 0.5, 0.99}, {"flow_rate", "liters per minute", 0.1, 8},
  {"replacement_cost", "dollars per year", 15, 250}})
scenario("home_generators", "Which backup generator would you buy?", {
  {"price", "dollars", 400, 12000}, {"running_power", "kilowatts", 2, 22},
  {"runtime", "hours per tank", 4, 20}, {"generator_noise", "decibels at 7 meters", 50, 75},
  {"start_time", "seconds", 5, 60}})
scenario("bookshelves", "Which bookshelf would you buy?", {
  {"price", "dollars", 40, 900}, {"shelf_count", "shelves", 3, 8},
  {"shelf_load", "kilograms per shelf", 10, 60}, {"height", "centimeters", 80, 240},
  {"assembly_time", "minutes", 10, 180}})
scenario("bed_linens", "Which set of bed sheets would you buy?", {
  {"price", "dollars", 25, 400}, {"thread_count", "threads per square inch", 200, 1000},
  {"fabric_weight", "grams per square meter", 100, 200}, {"pocket_depth", "inches", 12, 22},
  {"pilling_resistance", "grade out of 5", 1, 5}})

---------------------------------------------------------------------------------------------------
-- Services and subscriptions
---------------------------------------------------------------------------------------------------
scenario("home_internet_plans", "Which internet plan would you sign up for?", {
  {"monthly_price", "dollars", 20, 150}, {"download_speed", "megabits per second", 25, 2000},
  {"upload_speed", "megabits per second", 3, 2000}, {"data_cap", "terabytes", 0.5, 3},
  {"contract_length", "months", 0, 24}})
scenario("mobile_phone_plans", "Which mobile phone plan would you choose?", {
  {"monthly_cost", "dollars", 10, 90}, {"high_speed_data", "gigabytes", 1, 100},
  {"hotspot_allowance", "gigabytes", 0, 50}, {"coverage", "percent of population", 90, 99.5},
  {"international_minutes", "minutes", 0, 1000}})
scenario("streaming_services", "Which streaming service would you subscribe to?", {
  {"monthly_price", "dollars", 5, 25}, {"catalog_size", "thousand titles", 1, 20},
  {"new_releases", "titles per month", 5, 100}, {"ads_per_hour", "minutes", 0, 6},
  {"simultaneous_streams", "screens", 1, 4}})
scenario("dentists", "Which dentist would you go to?", {
  {"cleaning_price", "dollars", 60, 250}, {"wait_for_appointment", "days", 1, 60},
  {"experience", "years", 1, 40}, {"patient_rating", "stars out of 5", 3, 5},
  {"drive_time", "minutes", 5, 45}})
scenario("family_doctors", "Which family doctor would you register with?", {
  {"visit_copay", "dollars", 0, 60}, {"appointment_wait", "days", 0, 30},
  {"minutes_per_visit", "minutes", 8, 30}, {"after_hours_line", "hours per week", 0, 60},
  {"years_in_practice", "years", 1, 35}})
scenario("veterinary_clinics", "Which veterinary clinic would you take your pet to?", {
  {"exam_fee", "dollars", 40, 120}, {"vets_on_staff", "vets", 1, 12},
  {"emergency_hours", "hours per week", 0, 168}, {"distance", "kilometers", 1, 30},
  {"review_score", "stars out of 5", 3, 5}})
scenario("plumbers", "Which plumber would you call?", {
  {"call_out_fee", "dollars", 0, 150}, {"hourly_rate", "dollars", 50, 180},
  {"arrival_time", "hours", 0.5, 48}, {"workmanship_warranty", "months", 0, 24},
  {"reviews", "reviews", 3, 800}})
scenario("moving_companies", "Which moving company would you hire?", {
  {"quote", "dollars", 500, 8000}, {"crew_size", "movers", 2, 6},
  {"damage_claims", "claims per 100 moves", 0.5, 10}, {"insurance_cover", "dollars per pound", 0.6, 10},
  {"booking_lead_time", "days", 2, 45}})
scenario("wedding_photographers", "Which wedding photographer would you hire?", {
  {"package_price", "dollars", 800, 8000}, {"hours_of_coverage", "hours", 4, 12},
  {"edited_photos", "photos", 200, 1200}, {"delivery_time", "weeks", 2, 16},
  {"second_shooter", "hours", 0, 10}})
scenario("hair_salons", "Which hair salon would you book?", {
  {"haircut_price", "dollars", 15, 200}, {"stylist_experience", "years", 1, 30},
  {"booking_wait", "days", 0, 21}, {"appointment_length", "minutes", 20, 120},
  {"walk_from_work", "minutes", 2, 40}})
scenario("house_cleaners", "Which house cleaning service would you hire?", {
  {"price_per_visit", "dollars", 60, 300}, {"visit_hours", "hours", 2, 6},
  {"cleaners_per_visit", "cleaners", 1, 4}, {"rebooking_rate", "fraction of clients", 0.3, 0.95},
  {"supplies_included", "products", 0, 20}})
scenario("landscapers", "Which landscaping company would you hire?", {
  {"monthly_fee", "dollars", 80, 600}, {"visits_per_month", "visits", 1, 8},
  {"crew_size", "workers", 1, 6}, {"plant_guarantee", "months", 0, 24},
  {"quote_turnaround", "days", 1, 14}})
scenario("general_contractors", "Which contractor would you hire for a kitchen remodel?", {
  {"bid", "thousand dollars", 15, 120}, {"timeline", "weeks", 4, 24},
  {"years_in_business", "years", 1, 40}, {"past_overrun", "fraction over budget", 0, 0.4},
  {"warranty_length", "years", 1, 10}})
scenario("tax_accountants", "Which accountant would you hire to do your taxes?", {
  {"fee", "dollars", 150, 1500}, {"turnaround", "days", 2, 30},
  {"credentials", "years as CPA", 0, 35}, {"audit_support", "hours included", 0, 20},
  {"clients", "clients per accountant", 50, 600}})
scenario("therapists", "Which therapist would you see?", {
  {"session_fee", "dollars", 50, 250}, {"years_practicing", "years", 1, 35},
  {"session_length", "minutes", 45, 90}, {"first_available", "days", 1, 60},
  {"travel_time", "minutes", 0, 45}})
scenario("dog_walkers", "Which dog walker would you hire?", {
  {"price_per_walk", "dollars", 10, 40}, {"walk_length", "minutes", 15, 60},
  {"dogs_per_walk", "dogs", 1, 8}, {"experience", "years", 0, 15},
  {"reliability", "fraction of walks on time", 0.7, 1}})
scenario("law_firms", "Which lawyer would you hire for a contract dispute?", {
  {"hourly_rate", "dollars", 150, 900}, {"retainer", "thousand dollars", 1, 25},
  {"similar_cases", "cases handled", 1, 200}, {"win_rate", "fraction of cases", 0.3, 0.85},
  {"response_time", "hours", 1, 72}})
scenario("electricity_plans", "Which electricity plan would you switch to?", {
  {"energy_rate", "cents per kWh", 8, 35}, {"renewable_share", "percent", 0, 100},
  {"contract_term", "months", 0, 36}, {"exit_fee", "dollars", 0, 300},
  {"monthly_service_charge", "dollars", 0, 20}})
scenario("meal_delivery_apps", "Which food delivery app would you use?", {
  {"delivery_fee", "dollars", 0, 8}, {"service_fee", "percent of order", 5, 18},
  {"restaurants", "restaurants nearby", 20, 800}, {"average_delivery", "minutes", 20, 60},
  {"order_accuracy", "fraction of orders", 0.85, 0.99}})
scenario("cloud_storage_plans", "Which cloud storage plan would you pay for?", {
  {"storage", "terabytes", 0.1, 10}, {"annual_price", "dollars", 10, 200},
  {"version_history", "days", 7, 365}, {"upload_speed", "megabytes per second", 2, 100},
  {"shared_users", "users", 1, 6}})
scenario("car_repair_shops", "Which auto repair shop would you use?", {
  {"labor_rate", "dollars per hour", 70, 200}, {"days_to_fix", "days", 0.5, 7},
  {"parts_warranty", "months", 3, 36}, {"mechanics", "certified mechanics", 1, 12},
  {"loaner_cars", "cars", 0, 10}})
scenario("dry_cleaners", "Which dry cleaner would you use?", {
  {"shirt_price", "dollars", 2, 8}, {"turnaround", "days", 0.5, 4},
  {"distance", "kilometers", 0.2, 8}, {"stain_success", "fraction of stains removed", 0.5, 0.95},
  {"pickup_window", "hours per day", 6, 14}})

---------------------------------------------------------------------------------------------------
-- Pets and animals
---------------------------------------------------------------------------------------------------
scenario("dog_breeds", "Which dog breed would you adopt?", {
  {"adult_weight", "kilograms", 2, 70}, {"exercise_need", "hours per day", 0.5, 3},
  {"lifespan", "years", 7, 16}, {"shedding", "rating out of 5", 1, 5},
  {"trainability", "rating out of 10", 1, 10}})
scenario("dog_foods", "Which dog food would you buy?", {
  {"price", "dollars per kilogram", 2, 15}, {"protein", "percent", 18, 40},
  {"fat", "percent", 8, 22}, {"calories", "kcal per cup", 300, 500},
  {"fiber", "percent", 2, 8}})
scenario("cat_litters", "Which cat litter would you buy?", {
  {"price", "dollars per 10 liters", 4, 20}, {"clumping_strength", "rating out of 10", 1, 10},
  {"dust", "rating out of 5", 0, 5}, {"bag_weight", "kilograms", 2, 20},
  {"odor_control_days", "days", 3, 21}})
scenario("home_aquariums", "Which aquarium setup would you buy?", {
  {"tank_volume", "liters", 20, 500}, {"price", "dollars", 50, 2500},
  {"filter_turnover", "tank volumes per hour", 3, 10}, {"light_output", "lumens", 200, 6000},
  {"glass_thickness", "millimeters", 4, 15}})
scenario("horse_boarding", "Which stable would you board your horse at?", {
  {"monthly_board", "dollars", 200, 1500}, {"turnout_hours", "hours per day", 2, 24},
  {"arena_size", "square meters", 600, 4000}, {"trail_access", "kilometers of trails", 0, 40},
  {"stall_size", "square meters", 9, 20}})
scenario("pet_sitters", "Which pet sitter would you book while you travel?", {
  {"nightly_rate", "dollars", 20, 120}, {"visits_per_day", "visits", 1, 4},
  {"experience", "years", 0, 20}, {"photo_updates", "updates per day", 0, 6},
  {"other_pets_present", "pets", 0, 5}})
scenario("chicken_coops", "Which chicken coop would you buy?", {
  {"price", "dollars", 150, 2000}, {"hens_capacity", "hens", 2, 12},
  {"nesting_boxes", "boxes", 1, 6}, {"run_area", "square meters", 1, 12},
  {"insulation", "R-value", 0, 8}})

---------------------------------------------------------------------------------------------------
-- Clothing and personal items
---------------------------------------------------------------------------------------------------
scenario("wristwatches", "Which wristwatch would you buy?", {
  {"price", "dollars", 50, 10000}, {"accuracy", "seconds per day", 0.1, 20},
  {"case_diameter", "millimeters", 34, 46}, {"power_reserve", "hours", 38, 120},
  {"case_thickness", "millimeters", 7, 15}})
scenario("polarized_sunglasses", "Which sunglasses would you buy?", {
  {"price", "dollars", 15, 400}, {"light_transmission", "fraction of light", 0.08, 0.4},
  {"frame_weight", "grams", 15, 45}, {"lens_width", "millimeters", 48, 62},
  {"scratch_resistance", "rating out of 10", 1, 10}})
scenario("perfumes", "Which perfume would you wear?", {
  {"price", "dollars per 50 ml", 20, 300}, {"longevity", "hours", 2, 12},
  {"sillage", "rating out of 5", 1, 5}, {"concentration", "percent aromatic compounds", 3, 30},
  {"notes", "listed notes", 3, 20}})
scenario("sunscreens", "Which sunscreen would you use?", {
  {"spf", "SPF", 15, 70}, {"water_resistance", "minutes", 0, 80},
  {"tube_price", "dollars", 6, 45}, {"white_cast", "rating out of 5", 0, 5},
  {"tube_volume", "milliliters", 50, 250}})
scenario("winter_coats", "Which winter coat would you buy?", {
  {"price", "dollars", 80, 1200}, {"warmth_rating", "degrees Celsius comfort limit", -30, 5},
  {"coat_weight", "grams", 500, 2200}, {"length", "centimeters below the waist", 0, 50},
  {"packed_volume", "liters", 3, 15}})
scenario("rain_jackets", "Which rain jacket would you buy?", {
  {"price", "dollars", 40, 600}, {"waterproof_rating", "millimeters of water column", 5000, 30000},
  {"breathability", "grams per square meter per day", 5000, 25000}, {"jacket_weight", "grams", 150, 700},
  {"pit_zip_length", "centimeters", 0, 40}})
scenario("denim_jeans", "Which pair of jeans would you buy?", {
  {"price", "dollars", 20, 300}, {"denim_weight", "ounces per square yard", 9, 21},
  {"stretch", "percent elastane", 0, 4}, {"rise", "inches", 8, 12.5},
  {"shrinkage", "percent after wash", 0, 10}})
scenario("leather_dress_shoes", "Which dress shoes would you buy?", {
  {"price", "dollars", 60, 800}, {"resoleable_times", "resoles", 0, 5},
  {"shoe_weight", "grams per shoe", 300, 700}, {"heel_height", "centimeters", 2, 4.5},
  {"comfort_rating", "rating out of 10", 1, 10}})
scenario("business_suits", "Which suit would you buy?", {
  {"price", "dollars", 150, 3000}, {"wool_fineness", "micron", 14, 22},
  {"fabric_weight", "grams per meter", 220, 400}, {"alterations_included", "alterations", 0, 5},
  {"delivery_days", "days", 0, 60}})
scenario("engagement_rings", "Which engagement ring would you choose?", {
  {"price", "thousand dollars", 0.5, 30}, {"carat_weight", "carats", 0.25, 2},
  {"band_width", "millimeters", 1.5, 3}, {"clarity_grade", "grade from 1 (flawed) to 11", 1, 11},
  {"color_grade", "grades below colorless", 0, 10}})
scenario("leather_wallets", "Which wallet would you carry?", {
  {"price", "dollars", 15, 300}, {"card_slots", "slots", 2, 14},
  {"wallet_thickness", "millimeters", 5, 20}, {"leather_thickness", "millimeters", 0.6, 1.4},
  {"wallet_weight", "grams", 20, 150}})
scenario("travel_umbrellas", "Which umbrella would you carry?", {
  {"price", "dollars", 8, 80}, {"canopy_diameter", "centimeters", 85, 130},
  {"umbrella_weight", "grams", 180, 650}, {"wind_rating", "km per hour", 30, 100},
  {"folded_length", "centimeters", 20, 90}})
scenario("reading_eyeglasses", "Which reading glasses would you buy?", {
  {"price", "dollars", 10, 300}, {"lens_power", "diopters", 1, 3.5},
  {"frame_weight", "grams", 8, 35}, {"blue_light_filter", "fraction blocked", 0.1, 0.5},
  {"hinge_durability", "thousand openings", 5, 50}})
scenario("shampoos", "Which shampoo would you buy?", {
  {"price", "dollars", 3, 40}, {"bottle_volume", "milliliters", 200, 1000},
  {"lather", "rating out of 5", 1, 5}, {"ph", "pH", 4.5, 7},
  {"fragrance_strength", "rating out of 10", 0, 10}})
scenario("backpacks_for_school", "Which school backpack would you buy your child?", {
  {"price", "dollars", 20, 150}, {"capacity", "liters", 15, 35},
  {"empty_weight", "grams", 400, 1500}, {"reflective_area", "square centimeters", 0, 300},
  {"warranty", "years", 0, 10}})

---------------------------------------------------------------------------------------------------
-- Leisure, culture and hobbies
---------------------------------------------------------------------------------------------------
scenario("novels", "Which novel would you read next?", {
  {"page_count", "pages", 150, 1000}, {"reader_rating", "stars out of 5", 3, 5},
  {"publication_age", "years", 0, 200}, {"price", "dollars", 0, 30},
  {"chapter_length", "pages", 3, 40}})
scenario("board_games", "Which board game would you buy?", {
  {"price", "dollars", 15, 150}, {"play_time", "minutes", 15, 240},
  {"max_players", "players", 2, 10}, {"complexity", "rating out of 5", 1, 5},
  {"minimum_age", "years", 6, 16}})
scenario("video_games", "Which video game would you play?", {
  {"price", "dollars", 0, 70}, {"playtime", "hours", 5, 200},
  {"critic_score", "points", 50, 98}, {"download_size", "gigabytes", 1, 150},
  {"multiplayer_slots", "players", 1, 100}})
scenario("movies_tonight", "Which movie would you watch tonight?", {
  {"runtime", "minutes", 80, 200}, {"audience_score", "percent", 40, 98},
  {"release_age", "years", 0, 70}, {"rental_price", "dollars", 0, 20},
  {"laughs_per_hour", "laughs", 0, 60}})
scenario("concert_tickets", "Which concert would you buy a ticket for?", {
  {"ticket_price", "dollars", 20, 400}, {"venue_capacity", "thousand people", 0.2, 60},
  {"set_length", "minutes", 45, 180}, {"distance_to_stage", "meters", 5, 150},
  {"travel_time", "minutes", 10, 180}})
scenario("podcasts", "Which podcast would you subscribe to?", {
  {"episode_length", "minutes", 10, 180}, {"episodes_per_month", "episodes", 1, 20},
  {"ad_time", "minutes per episode", 0, 12}, {"back_catalog", "episodes", 5, 1000},
  {"listener_rating", "stars out of 5", 3, 5}})
scenario("museums", "Which museum would you visit?", {
  {"admission", "dollars", 0, 40}, {"collection_size", "thousand objects on display", 0.5, 40},
  {"crowding", "visitors per room", 2, 80}, {"visit_length", "hours", 1, 5},
  {"guided_tours", "tours per day", 0, 12}})
scenario("acoustic_guitars", "Which acoustic guitar would you buy?", {
  {"price", "dollars", 100, 4000}, {"scale_length", "inches", 24, 25.5},
  {"action_height", "millimeters at 12th fret", 1.5, 3.5}, {"body_depth", "inches", 3.5, 5},
  {"guitar_weight", "kilograms", 1.5, 2.8}})
scenario("digital_pianos", "Which digital piano would you buy?", {
  {"price", "dollars", 300, 5000}, {"polyphony", "notes", 64, 256},
  {"key_weight_levels", "sensitivity levels", 1, 10}, {"speaker_power", "watts", 10, 100},
  {"piano_depth", "centimeters", 25, 50}})
scenario("student_violins", "Which violin would you buy?", {
  {"price", "dollars", 200, 8000}, {"instrument_age", "years", 0, 150},
  {"projection", "rating out of 10", 1, 10}, {"bow_weight", "grams", 58, 63},
  {"string_height", "millimeters", 3, 5}})
scenario("art_supply_paints", "Which set of watercolor paints would you buy?", {
  {"price", "dollars", 10, 250}, {"colors", "pans", 6, 48},
  {"lightfastness", "rating out of 5", 1, 5}, {"pigment_load", "fraction pigment", 0.1, 0.5},
  {"granulation", "rating out of 5", 0, 5}})
scenario("jigsaw_puzzles", "Which jigsaw puzzle would you do?", {
  {"pieces", "pieces", 100, 5000}, {"price", "dollars", 8, 60},
  {"finished_width", "centimeters", 30, 150}, {"piece_fit", "rating out of 10", 1, 10},
  {"solve_time", "hours", 1, 80}})
scenario("magazine_subscriptions", "Which magazine would you subscribe to?", {
  {"annual_price", "dollars", 10, 150}, {"issues_per_year", "issues", 4, 52},
  {"pages_per_issue", "pages", 40, 200}, {"ad_pages", "fraction of pages", 0.05, 0.5},
  {"archive_years", "years online", 0, 100}})
scenario("theater_seats", "Which theater seat would you book?", {
  {"ticket_price", "dollars", 25, 300}, {"row", "rows from stage", 1, 30},
  {"off_center", "seats from center", 0, 15}, {"legroom", "centimeters", 20, 40},
  {"view_obstruction", "fraction of stage hidden", 0, 0.3}})
scenario("sports_tickets", "Which game would you buy tickets for?", {
  {"ticket_price", "dollars", 15, 500}, {"seat_elevation", "meters above field", 2, 40},
  {"distance_from_midfield", "meters", 0, 60}, {"team_standing_gap", "places in table", 0, 15},
  {"travel_time", "minutes", 10, 120}})
scenario("cooking_classes", "Which cooking class would you take?", {
  {"class_fee", "dollars", 30, 250}, {"class_length", "hours", 1.5, 5},
  {"students", "students", 4, 20}, {"dishes_cooked", "dishes", 1, 6},
  {"chef_experience", "years", 2, 40}})
scenario("photography_workshops", "Which photography workshop would you attend?", {
  {"fee", "dollars", 50, 3000}, {"workshop_days", "days", 1, 10},
  {"participants", "photographers", 3, 25}, {"shooting_locations", "locations", 1, 12},
  {"instructor_awards", "awards", 0, 20}})
scenario("escape_rooms", "Which escape room would you book?", {
  {"price_per_player", "dollars", 20, 50}, {"escape_rate", "fraction of teams", 0.1, 0.8},
  {"time_limit", "minutes", 45, 90}, {"team_size", "max players", 2, 10},
  {"puzzles", "puzzles", 6, 30}})
scenario("bookstores", "Which bookstore would you spend an afternoon in?", {
  {"titles_in_stock", "thousand titles", 2, 100}, {"cafe_seats", "seats", 0, 60},
  {"author_events", "events per month", 0, 12}, {"used_book_share", "fraction of stock", 0, 1},
  {"walk_from_station", "minutes", 1, 25}})
scenario("chess_clubs", "Which chess club would you join?", {
  {"annual_dues", "dollars", 0, 300}, {"members", "members", 8, 200},
  {"average_rating", "Elo", 1000, 2200}, {"club_nights", "nights per week", 1, 5},
  {"tournaments", "per year", 0, 20}})

---------------------------------------------------------------------------------------------------
-- Tools, business and farming
---------------------------------------------------------------------------------------------------
scenario("cordless_drills", "Which cordless drill would you buy?", {
  {"price", "dollars", 40, 400}, {"torque", "newton meters", 20, 140},
  {"battery_capacity", "amp hours", 1.5, 6}, {"drill_weight", "kilograms", 0.9, 2.5},
  {"chuck_size", "millimeters", 10, 13}})
scenario("chainsaws", "Which chainsaw would you buy?", {
  {"price", "dollars", 100, 1200}, {"bar_length", "inches", 10, 24},
  {"chain_speed", "meters per second", 10, 28}, {"saw_weight", "kilograms", 2.5, 7},
  {"vibration", "meters per second squared", 2, 8}})
scenario("extension_ladders", "Which ladder would you buy?", {
  {"price", "dollars", 80, 700}, {"max_reach", "meters", 3, 10},
  {"ladder_weight", "kilograms", 7, 30}, {"load_rating", "kilograms", 100, 170},
  {"rung_depth", "millimeters", 30, 90}})
scenario("sewing_machines", "Which sewing machine would you buy?", {
  {"price", "dollars", 80, 2000}, {"stitch_types", "stitches", 6, 300},
  {"max_speed", "stitches per minute", 600, 1500}, {"throat_space", "inches", 4, 12},
  {"machine_weight", "kilograms", 4, 15}})
scenario("desktop_3d_printers", "Which 3D printer would you buy?", {
  {"price", "dollars", 150, 3000}, {"build_volume", "liters", 5, 60},
  {"layer_height_min", "millimeters", 0.05, 0.2}, {"print_speed", "millimeters per second", 50, 600},
  {"failed_print_rate", "fraction of prints", 0.02, 0.3}})
scenario("welding_machines", "Which welder would you buy?", {
  {"price", "dollars", 150, 4000}, {"max_amperage", "amps", 90, 300},
  {"duty_cycle", "percent at max amps", 10, 60}, {"welder_weight", "kilograms", 5, 40},
  {"max_plate_thickness", "millimeters", 3, 16}})
scenario("farm_tractors", "Which tractor would you buy for the farm?", {
  {"price", "thousand dollars", 15, 250}, {"engine_power", "horsepower", 25, 300},
  {"lift_capacity", "thousand kilograms", 0.5, 8}, {"fuel_tank", "liters", 30, 500},
  {"dealer_distance", "kilometers", 5, 200}})
scenario("wheat_varieties", "Which wheat variety would you sow?", {
  {"yield", "tonnes per hectare", 3, 10}, {"protein_content", "percent", 9, 15},
  {"days_to_maturity", "days", 90, 140}, {"lodging_resistance", "rating out of 9", 1, 9},
  {"seed_cost", "dollars per hectare", 40, 160}})
scenario("greenhouses", "Which greenhouse would you put up?", {
  {"price", "dollars", 300, 15000}, {"floor_area", "square meters", 4, 60},
  {"light_transmission", "fraction of sunlight", 0.7, 0.92}, {"heat_retention", "R-value", 0.8, 2},
  {"roof_vents", "vents", 1, 8}})
scenario("warehouse_sites", "Which warehouse site would you lease?", {
  {"rent", "dollars per square meter per year", 40, 180}, {"floor_space", "thousand square meters", 2, 50},
  {"highway_distance", "kilometers", 0.5, 30}, {"loading_docks", "docks", 2, 40},
  {"clear_height", "meters", 6, 14}})
scenario("software_vendors", "Which software vendor would your team pick?", {
  {"license_cost", "dollars per seat per month", 5, 80}, {"uptime", "percent", 99, 99.99},
  {"support_response", "hours", 1, 48}, {"integrations", "integrations", 5, 500},
  {"onboarding_time", "weeks", 1, 12}})
scenario("cloud_instances", "Which cloud server would you rent?", {
  {"hourly_price", "dollars", 0.01, 3}, {"vcpus", "virtual CPUs", 1, 64},
  {"memory", "gigabytes", 1, 256}, {"network_bandwidth", "gigabits per second", 0.5, 25},
  {"startup_time", "seconds", 10, 180}})
scenario("project_management_tools", "Which project management tool would you adopt?", {
  {"price", "dollars per user per month", 0, 30}, {"learning_curve", "hours to proficiency", 1, 20},
  {"page_load_time", "seconds", 0.3, 4}, {"automation_rules", "rules included", 0, 250},
  {"storage_per_user", "gigabytes", 1, 100}})
scenario("laboratory_microscopes", "Which microscope would you buy for the lab?", {
  {"price", "thousand dollars", 1, 60}, {"max_magnification", "times", 400, 2000},
  {"numerical_aperture", "NA", 0.65, 1.4}, {"camera_resolution", "megapixels", 0, 20},
  {"stage_travel", "millimeters", 50, 120}})
scenario("office_coffee_suppliers", "Which coffee supplier would you choose for the office?", {
  {"price_per_cup", "dollars", 0.1, 0.9}, {"machine_rental", "dollars per month", 0, 200},
  {"delivery_frequency", "deliveries per month", 1, 8}, {"bean_varieties", "varieties", 1, 15},
  {"service_visits", "visits per year", 0, 12}})
scenario("freight_carriers", "Which freight carrier would you ship with?", {
  {"rate", "dollars per kilometer", 1, 4}, {"transit_time", "days", 1, 10},
  {"damage_rate", "fraction of shipments", 0.001, 0.03}, {"tracking_updates", "updates per day", 0, 24},
  {"on_time_delivery", "fraction of shipments", 0.8, 0.99}})

return library
